//! The migration runner keeps the books as `sqlx` did: a database an earlier Nod created
//! and migrated with `sqlx` upgrades in place, and one whose books disagree with the
//! files is refused.

use std::path::Path;

use super::*;
use crate::sqlite::migrate::{MIGRATIONS, Migration};

/// The SHA-384 of each migration file, as `sqlx` recorded them in `_sqlx_migrations`
/// (computed with `sha384sum`). A migration file must never change once released: a
/// database that applied it would be refused.
const CHECKSUMS: [&str; 10] = [
    "ffac548f062dafa788e8ffcc1cf5f5c883bc1cc4a28fbc05263c927a31523db4ee185d33fa9c41cbca6c3284041cf1d3",
    "43e7beb7acbdb6d41a5b62b3b3c901dcdaaa24b4516527a5c0a10d66af9ae10707c2a1f03643796a0640d562f1589ce2",
    "b30b4bf7b0f36d1302ad0e2980bd8a7fd8e2e1d0b8cf3355df6f3d0dc14a0b085d2d304065e9daef080fcbc6f74c0034",
    "df8b89a89033b8b774d8215dd7e4bd309bc16e97bdaa01086ed19cffdb0e93705db70c69e558d3da3b04db74876573fe",
    "5dc913daa2fe12168870d8bcbe1525d52f172e53e3ec50989b1aff73c165a8367050581edef1e5f975531cd0af77e516",
    "f8382910f42b1c88070601f951bc083df719224773136c25dc9f27487166dfa28f08e0438223d794a82a82f6d68258b2",
    "b549b69d3c0a0e9b8cc4263fa0af685d36937a5438f607fceea811fb33fe1cef9f6bc586fb0c44494ebe2222f8fc031c",
    "262e7d4cc76c58f4c7d4daf0112bddd8201a7d1871feed64c1958b99cb144add292c9d48eadf7f822f4aefbdc7b745c9",
    "5fa00ee73881ad60104e8f40053010e90fa1122b14b67cb9dd610949366ed848783d5868ddc91976859c5a9d83883d60",
    "94cbd432a2df5dd08274d389fb473241eb7efeeb8cf6ae73ba582abe4fccc72ce62d7d547ed8ba01d0fab41d3e3d0577",
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_list_is_the_directory_read_as_sqlx_reads_it() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), MIGRATIONS.len());
    for (path, m) in files.iter().zip(MIGRATIONS) {
        // sqlx: `<version>_<description>.sql`, `_` in the description read as a space.
        let name = path.file_name().unwrap().to_str().unwrap();
        let (version, rest) = name.split_once('_').unwrap();
        let description = rest.trim_end_matches(".sql").replace('_', " ");
        assert_eq!(version.parse::<i64>().unwrap(), m.version, "{name}");
        assert_eq!(description, m.description, "{name}");
        assert_eq!(std::fs::read_to_string(path).unwrap(), m.sql, "{name}");
        assert!(!m.sql.starts_with("-- no-transaction"), "{name}");
    }
}

#[test]
fn checksums_are_what_sqlx_recorded() {
    for (m, expected) in MIGRATIONS.iter().zip(CHECKSUMS) {
        assert_eq!(hex(&m.checksum()), expected, "migration {}", m.version);
    }
}

/// Applies `migrations` to the database at `path` exactly as the `sqlx` migrator of
/// earlier Nods did (sqlx-sqlite 0.8: its table, then per migration one transaction
/// with the SQL and the record, then the execution time), on a connection set up as
/// theirs was (foreign keys on).
fn migrate_as_sqlx(path: &Path, migrations: &[Migration]) {
    let mut conn = Connection::open(path).unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")
        .unwrap();
    // sqlx's statement, to the byte.
    conn.execute_batch(
        r#"
CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    success BOOLEAN NOT NULL,
    checksum BLOB NOT NULL,
    execution_time BIGINT NOT NULL
);
                "#,
    )
    .unwrap();
    for m in migrations {
        let tx = conn.transaction().unwrap();
        tx.execute_batch(m.sql).unwrap();
        tx.execute(
            "INSERT INTO _sqlx_migrations ( version, description, success, checksum, execution_time )
             VALUES ( ?1, ?2, TRUE, ?3, -1 )",
            rusqlite::params![m.version, m.description, m.checksum()],
        )
        .unwrap();
        tx.commit().unwrap();
        conn.execute(
            "UPDATE _sqlx_migrations SET execution_time = ?1 WHERE version = ?2",
            [1_234_567, m.version],
        )
        .unwrap();
    }
}

/// A database migrated by an earlier Nod up to 0005, the schema before the foreign
/// keys, and the store on it (not migrated further).
async fn store_at_0005() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    migrate_as_sqlx(&dir.path().join("nod.db"), &MIGRATIONS[..5]);
    let store = SqliteStore::connect(&url(&dir)).await.unwrap();
    (dir, store)
}

/// `_sqlx_migrations` as it stands: version, description, success, checksum (hex),
/// execution time and install time.
fn books(store: &SqliteStore) -> Vec<String> {
    store
        .write(|conn| {
            Ok(texts(
                conn,
                "SELECT version || '|' || description || '|' || success || '|' || hex(checksum) || '|' || execution_time || '|' || installed_on
                 FROM _sqlx_migrations ORDER BY version",
            ))
        })
        .unwrap()
}

/// The schema: every table, index and trigger as SQLite stores its definition.
fn schema(store: &SqliteStore) -> Vec<String> {
    store
        .write(|conn| {
            Ok(texts(
                conn,
                "SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master ORDER BY type, name",
            ))
        })
        .unwrap()
}

#[tokio::test]
async fn a_database_migrated_by_sqlx_upgrades_in_place() {
    let (_dir, store) = store_at_0005().await;
    let before = books(&store);
    assert_eq!(before.len(), 5);

    store.migrate().await.unwrap();

    let after = books(&store);
    assert_eq!(after.len(), MIGRATIONS.len());
    assert_eq!(after[..5], before[..], "what sqlx recorded stays as it was");
    for (row, (m, checksum)) in after.iter().zip(MIGRATIONS.iter().zip(CHECKSUMS)).skip(5) {
        let fields: Vec<&str> = row.split('|').collect();
        assert_eq!(fields[0], m.version.to_string());
        assert_eq!(fields[1], m.description);
        assert_eq!(fields[2], "1", "success");
        assert_eq!(fields[3], checksum.to_uppercase());
        assert!(fields[4].parse::<i64>().unwrap() > 0, "execution time");
    }
    // The same schema as a database created by this Nod, and nothing left to do.
    let (_fresh_dir, fresh) = super::store().await;
    assert_eq!(schema(&store), schema(&fresh));
    store.migrate().await.unwrap();
    assert_eq!(books(&store), after);
}

#[tokio::test]
async fn books_that_disagree_with_the_files_are_refused() {
    let refused = |store: &SqliteStore, sql: &str| {
        let store = store.clone();
        let sql = sql.to_owned();
        async move {
            exec(&store, &sql, []).unwrap();
            match store.migrate().await {
                Err(StoreError::Migration(why)) => why.to_string(),
                other => panic!("{sql}: expected a refusal, got {other:?}"),
            }
        }
    };
    // Nothing is applied past a refusal: 0006 and later wait.
    let (_dir, store) = store_at_0005().await;
    let why = refused(
        &store,
        "UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 2",
    )
    .await;
    assert!(
        why.contains("migration 2") && why.contains("checksum"),
        "{why}"
    );
    assert_eq!(books(&store).len(), 5);
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'webhooks'"
        ),
        0
    );

    let (_dir, store) = store_at_0005().await;
    let why = refused(
        &store,
        "UPDATE _sqlx_migrations SET success = FALSE WHERE version = 5",
    )
    .await;
    assert!(why.contains("migration 5 failed"), "{why}");
    assert_eq!(books(&store).len(), 5);

    let (_dir, store) = super::store().await;
    let why = refused(
        &store,
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (42, 'from the future', TRUE, x'00', 1)",
    )
    .await;
    assert!(
        why.contains("migration 42") && why.contains("unknown"),
        "{why}"
    );
}

#[tokio::test]
async fn a_migration_applies_entirely_or_not_at_all() {
    let (_dir, store) = store_at_0005().await;
    let broken = [Migration {
        version: 6,
        description: "broken",
        sql: "CREATE TABLE half (x INTEGER); INSERT INTO no_such_table VALUES (1);",
    }];
    let result = store.write(|conn| migrate::apply(conn, &broken));
    assert!(result.is_err());
    assert_eq!(books(&store).len(), 5);
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'half'"
        ),
        0
    );
    // The real 0006 and the rest apply after that.
    store.migrate().await.unwrap();
    assert_eq!(books(&store).len(), MIGRATIONS.len());
}

#[tokio::test]
async fn migrating_to_foreign_keys_keeps_the_data_and_drops_orphans() {
    use nod_core::grant::AccessToken;
    use nod_core::login::RememberedBrowser;
    use nod_core::sales_unit::SalesUnit;
    use nod_core::user::User;

    use crate::{ConsentStore, DeviceStore, GrantStore, SalesUnitStore, UserStore};

    let (_dir, store) = store_at_0005().await;
    let unit = SalesUnit {
        client_id: "client".into(),
        secret_hash: vec![0; 32],
        name: "Shop".into(),
        redirect_uris: vec!["https://example.com/cb".into()],
        auth_method: Default::default(),
        msn: None,
        allow_nin: false,
        ciba_mode: Default::default(),
        ciba_notification_endpoint: None,
        webhook_url: None,
        consent_texts: None,
        created_at: 0,
    };
    store.create_sales_unit(&unit).await.unwrap();
    let new_user = nod_core::demo::demo_users().remove(0);
    let user = User::new(new_user, 0);
    // The users table as of 0005 (no email_verified yet, migration 0008).
    exec(
        &store,
        "INSERT INTO users (id, phone_number, given_name, family_name, email, birthdate, nin, addresses, active, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, 0)",
        rusqlite::params![
            user.id.to_string(),
            user.phone_number,
            user.given_name,
            user.family_name,
            user.email,
            user.birthdate,
            user.nin,
            serde_json::to_string(&user.addresses).unwrap(),
        ],
    )
    .unwrap();
    let ghost = Uuid::new_v4();
    let scopes = ScopeSet::parse("openid name").unwrap();

    // Rows tied to the user and the sales unit, and one orphan of each kind.
    let mut request = login_request();
    request.user_id = Some(user.id);
    store.create_login_request(&request).await.unwrap();
    let anonymous = login_request();
    store.create_login_request(&anonymous).await.unwrap();
    let mut orphan_request = login_request();
    orphan_request.client_id = "deleted-client".into();
    store.create_login_request(&orphan_request).await.unwrap();
    let mut ghost_request = login_request();
    ghost_request.user_id = Some(ghost);
    store.create_login_request(&ghost_request).await.unwrap();

    for (code, user_id, client) in [
        (vec![1u8], user.id, "client"),
        (vec![2], ghost, "client"),
        (vec![3], user.id, "deleted-client"),
    ] {
        exec(
            &store,
            "INSERT INTO auth_codes (code_hash, client_id, user_id, scopes, sid, auth_time, amr, expires_at)
             VALUES (?1, ?2, ?3, 1, ?4, 0, 'app', 100000)",
            rusqlite::params![
                code,
                client,
                user_id.to_string(),
                Uuid::new_v4().to_string()
            ],
        )
        .unwrap();
    }
    for (hash, user_id, client) in [
        (vec![1u8], user.id, "client"),
        (vec![2], ghost, "client"),
        (vec![3], user.id, "deleted-client"),
    ] {
        let token = AccessToken {
            token_hash: hash,
            client_id: client.into(),
            user_id,
            scopes,
            sid: Uuid::new_v4(),
            code_hash: Some(vec![1]),
            expires_at: 100_000,
        };
        store.insert_access_token(&token).await.unwrap();
    }
    for (user_id, client) in [
        (user.id, "client"),
        (ghost, "client"),
        (user.id, "deleted-client"),
    ] {
        store
            .grant_consent(user_id, client, scopes, 5)
            .await
            .unwrap();
    }
    for (i, user_id) in [user.id, ghost].into_iter().enumerate() {
        let browser = RememberedBrowser {
            id: Uuid::new_v4(),
            user_id,
            label: "Firefox".into(),
            created_at: 0,
            last_used_at: 0,
            expires_at: 100_000,
        };
        store.create_browser(&browser, &[i as u8]).await.unwrap();
        // As the store wrote devices then.
        exec(
            &store,
            "INSERT INTO devices (id, token_hash, user_id, created_at) VALUES (?1, ?2, ?3, 0)",
            rusqlite::params![Uuid::new_v4().to_string(), [i as u8], user_id.to_string()],
        )
        .unwrap();
        store
            .create_activation_code(user_id, &[i as u8], 100_000)
            .await
            .unwrap();
    }

    // Every column of a row, hashes and merchant-initiated fields included, and a code
    // already redeemed: dumped before and after, they must be the same.
    let full = {
        let mut r = login_request();
        r.user_id = Some(user.id);
        r
    };
    store.create_login_request(&full).await.unwrap();
    exec(
        &store,
        "UPDATE login_requests SET ticket_hash = x'01', resume_hash = x'02', phone_hash = x'03',
                kind = 'merchant_initiated', auth_req_id = 'req-1', binding_message = 'ABC-1',
                notification_token = 'n-1', last_polled_at = 7,
                delegated_answers = '[{\"id\":\"terms\",\"accepted\":true}]'
         WHERE id = ?1",
        [full.id.to_string()],
    )
    .unwrap();
    exec(
        &store,
        "INSERT INTO auth_codes (code_hash, client_id, user_id, redirect_uri, scopes, nonce, code_challenge,
                code_challenge_method, sid, auth_time, amr, acr, auth_req_id, expires_at, redeemed_at)
         VALUES (x'04', 'client', ?1, 'https://example.com/cb', 3, 'n', 'c', 'S256', ?2, 1, 'app', 'a', 'r', 100000, 9)",
        [user.id.to_string(), Uuid::new_v4().to_string()],
    )
    .unwrap();
    let dump = |table: &str, key: &str| {
        store
            .write(|conn| {
                let columns = texts(
                    conn,
                    &format!("SELECT name FROM pragma_table_info('{table}') ORDER BY name"),
                );
                let row = columns
                    .iter()
                    .map(|c| format!("quote({c})"))
                    .collect::<Vec<_>>()
                    .join(" || '|' || ");
                let rows = texts(
                    conn,
                    &format!("SELECT {row} FROM {table} WHERE {key} ORDER BY 1"),
                );
                Ok((columns, rows))
            })
            .unwrap()
    };
    let requests_key = format!("id = '{}'", full.id);
    let codes_key = "code_hash = x'04'";
    let requests_before = dump("login_requests", &requests_key);
    let codes_before = dump("auth_codes", codes_key);
    assert_eq!(requests_before.1.len(), 1);

    store.migrate().await.unwrap();

    assert_eq!(dump("login_requests", &requests_key), requests_before);
    assert_eq!(dump("auth_codes", codes_key), codes_before);

    // What belongs to someone survived, as it was.
    assert_eq!(
        store.get_login_request(request.id).await.unwrap(),
        Some(request)
    );
    assert_eq!(
        store.get_login_request(anonymous.id).await.unwrap(),
        Some(anonymous)
    );
    assert!(matches!(
        store.redeem_code(&[1], "client", 10).await.unwrap(),
        nod_core::grant::Redemption::Redeemed(_)
    ));
    let (token, owner) = store
        .get_access_token_with_user(&[1], 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((token.client_id.as_str(), owner.id), ("client", user.id));
    assert_eq!(
        owner, user,
        "a user stored before 0008 reads back as verified"
    );
    assert_eq!(store.list_consents(user.id).await.unwrap().len(), 1);
    assert_eq!(store.list_browsers(user.id, 10).await.unwrap().len(), 1);
    assert!(store.get_device(&[0], 10).await.unwrap().is_some());
    assert!(
        store
            .consume_activation_code(user.id, &[0], 10)
            .await
            .unwrap()
    );

    // The orphans are gone.
    assert!(
        store
            .get_login_request(orphan_request.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .get_login_request(ghost_request.id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM auth_codes"),
        2,
        "the user's two codes; the orphans are gone"
    );
    assert_eq!(count(&store, "SELECT COUNT(*) FROM access_tokens"), 1);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM consents"), 1);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM browsers"), 1);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM devices"), 1);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM activation_codes"), 0);
    assert!(store.get_device(&[1], 10).await.unwrap().is_none());

    // The keys hold, and every index is back.
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM pragma_foreign_key_check"),
        0
    );
    for (table, keys) in [
        ("login_requests", 2),
        ("auth_codes", 2),
        ("access_tokens", 2),
        ("consents", 2),
        ("browsers", 1),
        ("devices", 1),
        ("activation_codes", 1),
        ("audit_log", 0),
        ("users", 0),
        ("sales_units", 0),
    ] {
        let sql = format!(
            "SELECT COUNT(*) FROM pragma_foreign_key_list('{table}') WHERE on_delete = 'CASCADE'"
        );
        assert_eq!(count(&store, &sql), keys, "{table}");
    }
    let indexes = store
        .write(|conn| {
            Ok(texts(
                conn,
                "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%' ORDER BY name",
            ))
        })
        .unwrap();
    for index in [
        "access_tokens_code",
        "access_tokens_expiry",
        "activation_codes_user",
        "audit_log_at",
        "auth_codes_expiry",
        "browsers_user",
        "devices_user",
        "login_requests_auth_req",
        "login_requests_expiry",
        "login_requests_pending",
        "login_requests_phone",
        "login_requests_ticket",
    ] {
        assert!(
            indexes.iter().any(|i| i == index),
            "{index} missing: {indexes:?}"
        );
    }
    let ticket_is_unique: i64 = count(
        &store,
        "SELECT \"unique\" FROM pragma_index_list('login_requests') WHERE name = 'login_requests_ticket'",
    );
    assert_eq!(ticket_is_unique, 1);
}

#[tokio::test]
async fn migrating_to_key_algorithms_keeps_the_rsa_keys() {
    use crate::KeyStore;

    let (_dir, store) = store_at_0005().await;
    // The signing_keys table as of 0001-0011: RSA's modulus and exponent.
    exec(
        &store,
        "INSERT INTO signing_keys (kid, alg, private_der, public_n, public_e, created_at, active_from, retired_at)
         VALUES ('public:a', 'RS256', x'3082', 'n-of-a', 'AQAB', 10, 10, NULL),
                ('public:b', 'RS256', x'3083', 'n-of-b', 'AQAB', 20, 30, 40)",
        [],
    )
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
