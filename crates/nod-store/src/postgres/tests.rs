//! What the contract suite cannot see from outside the store: values stored behind its
//! back are read strictly, violations are conflicts, and the migration runner keeps its
//! books. Each test runs on a fresh database on the server `NOD_TEST_POSTGRES_URL` names,
//! and is skipped (passes, saying so) when it is not set.

use std::error::Error as _;

use nod_core::authorize::{AuthorizeRequest, Flow, Prompt, ResponseMode};
use nod_core::login::LoginRequest;
use nod_core::scope::ScopeSet;
use sha2::{Digest, Sha384};
use sqlx::Connection;
use uuid::Uuid;

use super::*;
use crate::{LoginRequestStore, UserStore};

/// The URL of a new, empty database on the test server, or `None` (the test is skipped)
/// when `NOD_TEST_POSTGRES_URL` is not set.
async fn fresh_database() -> Option<String> {
    let Ok(url) = std::env::var("NOD_TEST_POSTGRES_URL") else {
        eprintln!("NOD_TEST_POSTGRES_URL is not set: skipped");
        return None;
    };
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    let name = format!("nod_unit_{}", Uuid::new_v4().simple());
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let (base, query) = url.split_once('?').unwrap_or((&url, ""));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let server = &base[..base[authority..]
        .find('/')
        .map_or(base.len(), |i| authority + i)];
    Some(format!("{server}/{name}?{query}"))
}

/// A migrated store on a fresh database with the sales unit `client`.
async fn store() -> Option<PgStore> {
    let store = PgStore::connect(&fresh_database().await?).await.unwrap();
    store.migrate().await.unwrap();
    exec(
        &store,
        "INSERT INTO sales_units (client_id, secret_hash, name, redirect_uris, auth_method, allow_nin, ciba_mode, created_at)
         VALUES ('client', '\\x00', 'C', '[]', 'client_secret_basic', FALSE, 'poll', 0)",
    )
    .await
    .unwrap();
    Some(store)
}

/// Runs SQL behind the store's back.
async fn exec(store: &PgStore, sql: &str) -> crate::Result<u64> {
    execute(&store.pool, sqlx::query(sql)).await
}

fn login_request() -> LoginRequest {
    let req = AuthorizeRequest {
        client_id: "client".into(),
        redirect_uri: "https://example.com/cb".into(),
        scopes: ScopeSet::parse("openid name").unwrap(),
        state: "s".into(),
        nonce: None,
        code_challenge: None,
        flow: Flow::Web,
        app_callback_uri: None,
        final_redirect_is_app: false,
        acr_app_auth: false,
        prompt: Prompt::Default,
        response_mode: ResponseMode::Query,
    };
    LoginRequest::new(req, vec![1; 32], "csrf".into(), 1_000, 600)
}

/// The column a read named as corrupt, and why.
fn corrupt_column<T: std::fmt::Debug>(result: crate::Result<T>) -> (String, String) {
    match result {
        Err(StoreError::Corrupt { column, source }) => (column, source.to_string()),
        other => panic!("expected a corrupt value, got {other:?}"),
    }
}

#[tokio::test]
async fn values_this_version_never_writes_are_corrupt() {
    let Some(store) = store().await else { return };
    for (set, column, why) in [
        (
            "status = 'teleported'",
            "login_requests.status",
            "unknown value 'teleported'",
        ),
        (
            "scopes = 1048576",
            "login_requests.scopes",
            "unknown scope bits",
        ),
        (
            "choices = '1,2'",
            "login_requests.choices",
            "is not three numbers",
        ),
        (
            "challenge = 256",
            "login_requests.challenge",
            "out of range",
        ),
        (
            "delegated_answers = '['",
            "login_requests.delegated_answers",
            "EOF while parsing",
        ),
        (
            "kind = 'merchant_initiated'",
            "login_requests.auth_req_id",
            "missing on a merchant-initiated request",
        ),
    ] {
        let r = login_request();
        store.create_login_request(&r).await.unwrap();
        exec(
            &store,
            &format!("UPDATE login_requests SET {set} WHERE id = '{}'", r.id),
        )
        .await
        .unwrap();
        let (named, source) = corrupt_column(store.get_login_request(r.id).await);
        assert_eq!(named, column, "{set}");
        assert!(source.contains(why), "{set}: {source}");
    }

    exec(
        &store,
        "INSERT INTO users (id, phone_number, given_name, family_name, email, birthdate, nin, addresses, active, created_at)
         VALUES ('not a uuid', '4700000001', 'A', 'B', 'a@b', '2000-01-01', '', '[]', TRUE, 0),
                ('6a4b9e4e-6f0e-4a59-9a57-6d3c1f6e0e11', '4700000002', 'A', 'B', 'a@b', '2000-01-01', '', 'no json', TRUE, 0)",
    )
    .await
    .unwrap();
    let (named, _) = corrupt_column(store.get_user_by_phone("4700000001").await);
    assert_eq!(named, "users.id");
    let (named, _) = corrupt_column(store.get_user_by_phone("4700000002").await);
    assert_eq!(named, "users.addresses");
}

#[tokio::test]
async fn violations_are_conflicts_and_keep_their_cause() {
    let Some(store) = store().await else { return };
    let duplicate = exec(
        &store,
        "INSERT INTO sales_units (client_id, secret_hash, name, redirect_uris, auth_method, allow_nin, ciba_mode, created_at)
         VALUES ('client', '\\x00', 'C', '[]', 'client_secret_basic', FALSE, 'poll', 0)",
    )
    .await;
    assert!(
        matches!(&duplicate, Err(StoreError::Conflict(m)) if m.contains("duplicate key")),
        "{duplicate:?}"
    );
    let orphan = exec(
        &store,
        "INSERT INTO consents (user_id, client_id, scopes, granted_at) VALUES ('nobody', 'client', 1, 0)",
    )
    .await;
    assert!(
        matches!(&orphan, Err(StoreError::Conflict(m)) if m.contains("foreign key")),
        "{orphan:?}"
    );
    let other = exec(&store, "SELECT * FROM no_such_table").await;
    let Err(e @ StoreError::Other(_)) = other else {
        panic!("expected Other, got {other:?}")
    };
    assert!(e.source().is_some());
}

#[tokio::test]
async fn a_server_that_is_not_there_is_unavailable() {
    // A port nothing listens on (the discard port, closed on test machines).
    let result = PgStore::connect("postgres://nod@127.0.0.1:9/nod").await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{:?}",
        result.err()
    );
}

/// The books: version, description, success and whether the checksum is the file's.
async fn books(store: &PgStore) -> Vec<(i64, String, bool, bool)> {
    query_all(
        &store.pool,
        sqlx::query(
            "SELECT version, description, success, checksum FROM _sqlx_migrations ORDER BY version",
        ),
        |row| {
            use sqlx::Row;
            let version: i64 = row.try_get(0).unwrap();
            let checksum: Vec<u8> = row.try_get(3).unwrap();
            let file = MIGRATION_FILES
                .iter()
                .find(|(v, _)| *v == version)
                .map(|(_, sql)| Sha384::digest(sql.as_bytes()).to_vec());
            Ok((
                version,
                row.try_get(1).unwrap(),
                row.try_get(2).unwrap(),
                file == Some(checksum),
            ))
        },
    )
    .await
    .unwrap()
}

/// How many migrations the runner has.
const MIGRATION_COUNT: usize = super::migrate::MIGRATIONS.len();

/// The migration files, read as the runner embeds them.
const MIGRATION_FILES: [(i64, &str); 4] = [
    (1, include_str!("../../migrations/postgres/0001_init.sql")),
    (
        10,
        include_str!("../../migrations/postgres/0010_expiry_indexes.sql"),
    ),
    (
        11,
        include_str!("../../migrations/postgres/0011_outbox.sql"),
    ),
    (
        14,
        include_str!("../../migrations/postgres/0014_key_algorithms_and_audit.sql"),
    ),
];

#[tokio::test]
async fn migrations_apply_once_and_keep_sqlx_books() {
    let Some(store) = store().await else { return };
    store.migrate().await.unwrap();
    let books = books(&store).await;
    assert_eq!(books.len(), MIGRATION_COUNT);
    assert_eq!(books[0], (1, "init".into(), true, true));
    assert_eq!(books[9], (10, "expiry indexes".into(), true, true));
    assert_eq!(books[10], (11, "outbox".into(), true, true));
    assert_eq!(
        books[13],
        (14, "key algorithms and audit".into(), true, true)
    );
    assert!(
        books
            .iter()
            .enumerate()
            .all(|(i, (version, ..))| *version == i as i64 + 1)
    );
    assert!(books.iter().all(|(_, _, success, _)| *success));
}

#[tokio::test]
async fn instances_starting_together_migrate_one_after_another() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let (a, b) = tokio::join!(PgStore::connect(&url), PgStore::connect(&url));
    let (a, b) = (a.unwrap(), b.unwrap());
    let (ma, mb) = tokio::join!(a.migrate(), b.migrate());
    ma.unwrap();
    mb.unwrap();
    assert_eq!(books(&a).await.len(), MIGRATION_COUNT);
}

#[tokio::test]
async fn books_that_disagree_with_the_files_are_refused() {
    for (sql, expected) in [
        (
            "UPDATE _sqlx_migrations SET checksum = '\\x00' WHERE version = 2",
            "migration 2 was applied with a different checksum",
        ),
        (
            "UPDATE _sqlx_migrations SET success = FALSE WHERE version = 5",
            "migration 5 failed",
        ),
        (
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (42, 'from the future', TRUE, '\\x00', 1)",
            "migration 42 was applied but is unknown",
        ),
    ] {
        let Some(store) = store().await else { return };
        exec(&store, sql).await.unwrap();
        match store.migrate().await {
            Err(StoreError::Migration(why)) => {
                assert!(why.to_string().contains(expected), "{sql}: {why}");
            }
            other => panic!("{sql}: expected a refusal, got {other:?}"),
        }
    }
}

#[test]
fn server_trouble_is_unavailable() {
    for code in [
        "57P01", "57P03", "08006", "08001", "40001", "40P01", "53300",
    ] {
        assert!(unavailable_code(code), "{code}");
    }
    for code in ["23505", "23503", "42P01", "22P02"] {
        assert!(!unavailable_code(code), "{code}");
    }
    for e in [
        sqlx::Error::PoolTimedOut,
        sqlx::Error::PoolClosed,
        sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into()),
    ] {
        let e = db_error(e);
        assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
        assert!(e.source().is_some());
    }
}

/// A redemption that issues a token and a replay at the same moment: whichever wins, no
/// token issued from the code survives the replay (the replay waits for the redemption
/// to commit, then revokes what it issued).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replay_racing_the_redemption_leaves_no_token() {
    use nod_core::grant::{AccessToken, AuthCode, Redemption};
    use nod_core::login::Amr;
    use nod_core::user::User;

    use crate::GrantStore;

    let Some(store) = store().await else { return };
    let mut new_user = nod_core::demo::demo_users().remove(0);
    new_user.phone_number = "4700000003".into();
    let user = User::new(new_user, 1_000);
    store.create_user(&user).await.unwrap();
    let mut outcomes = (0, 0);
    for trial in 0..20u8 {
        let code = AuthCode {
            code_hash: vec![b'c', trial],
            client_id: "client".into(),
            user_id: user.id,
            redirect_uri: None,
            scopes: ScopeSet::parse("openid").unwrap(),
            nonce: None,
            code_challenge: None,
            code_challenge_method: None,
            sid: Uuid::new_v4(),
            auth_time: 1_000,
            amr: Amr::App,
            acr: None,
            auth_req_id: None,
            expires_at: 2_000,
        };
        let mut conn = store.pool.acquire().await.unwrap();
        login_requests::insert_code(&mut conn, &code).await.unwrap();
        drop(conn);
        let token_hash = vec![b't', trial];
        let (a, b) = (store.clone(), store.clone());
        let hash = code.code_hash.clone();
        let issuing = tokio::spawn({
            let (hash, token_hash) = (hash.clone(), token_hash.clone());
            async move {
                let issue = |c: &AuthCode| {
                    Some(AccessToken {
                        token_hash: token_hash.clone(),
                        client_id: c.client_id.clone(),
                        user_id: c.user_id,
                        scopes: c.scopes,
                        sid: c.sid,
                        code_hash: Some(c.code_hash.clone()),
                        expires_at: 2_000,
                    })
                };
                a.redeem_code_issuing(&hash, "client", 1_500, &issue).await
            }
        });
        let replay = tokio::spawn(async move { b.redeem_code(&hash, "client", 1_500).await });
        let (issuing, replay) = (
            issuing.await.unwrap().unwrap(),
            replay.await.unwrap().unwrap(),
        );
        match (&issuing, &replay) {
            (Redemption::Redeemed(_), Redemption::Replayed { tokens_revoked }) => {
                assert!(tokens_revoked, "trial {trial}");
                outcomes.0 += 1;
            }
            (Redemption::Replayed { tokens_revoked }, Redemption::Redeemed(_)) => {
                assert!(!tokens_revoked, "trial {trial}");
                outcomes.1 += 1;
            }
            other => panic!("trial {trial}: {other:?}"),
        }
        let left = store.get_access_token_with_user(&token_hash, 1_500).await;
        assert!(left.unwrap().is_none(), "trial {trial}");
    }
    eprintln!(
        "issuing redemption won {}, plain one {}",
        outcomes.0, outcomes.1
    );
}

#[tokio::test]
async fn migrating_to_key_algorithms_keeps_the_rsa_keys() {
    use crate::KeyStore;

    let Some(url) = fresh_database().await else {
        return;
    };
    let store = PgStore::connect(&url).await.unwrap();
    // The schema before 0014: RSA's modulus and exponent.
    let before = migrate::MIGRATIONS
        .iter()
        .take_while(|m| m.version < 14)
        .count();
    let mut conn = store.pool.acquire().await.unwrap();
    migrate::apply(&mut conn, &migrate::MIGRATIONS[..before])
        .await
        .unwrap();
    drop(conn);
    exec(
        &store,
        "INSERT INTO signing_keys (kid, alg, private_der, public_n, public_e, created_at, active_from, retired_at)
         VALUES ('public:a', 'RS256', '\\x3082', 'n-of-a', 'AQAB', 10, 10, NULL),
                ('public:b', 'RS256', '\\x3083', 'n-of-b', 'AQAB', 20, 30, 40)",
    )
    .await
    .unwrap();
    store.migrate().await.unwrap();
    let keys = store.list_signing_keys().await.unwrap();
    assert_eq!(keys.len(), 2);
    let jwk: serde_json::Value = serde_json::from_str(&keys[0].public_jwk).unwrap();
    assert_eq!(
        jwk,
        serde_json::json!({"kty": "RSA", "n": "n-of-a", "e": "AQAB"})
    );
    assert_eq!(
        (
            keys[0].kid.as_str(),
            keys[0].alg.as_str(),
            &keys[0].private_der[..]
        ),
        ("public:a", "RS256", &[0x30, 0x82][..])
    );
    assert_eq!(
        (keys[1].created_at, keys[1].active_from, keys[1].retired_at),
        (20, 30, Some(40))
    );
}
