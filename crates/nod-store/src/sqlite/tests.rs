//! Reading back what this version never writes is an error, never a silent default:
//! each test stores a corrupt value with raw SQL and reads it through the store.

use std::error::Error as _;

use nod_core::authorize::{AuthorizeRequest, Flow, Prompt, ResponseMode};
use nod_core::login::LoginRequest;
use nod_core::scope::ScopeSet;
use uuid::Uuid;

use super::*;
use crate::{LoginRequestStore, StoreError};

#[test]
fn errors_keep_their_cause() {
    let e = rows::corrupt(
        "login_requests.status",
        rows::Invalid::UnknownName("teleported".into()),
    );
    assert_eq!(
        e.to_string(),
        "unreadable stored value in login_requests.status"
    );
    assert_eq!(
        e.source().map(|s| s.to_string()).as_deref(),
        Some("unknown value 'teleported'")
    );
    let e = db_error(sqlx::Error::PoolTimedOut);
    assert!(matches!(e, StoreError::Unavailable(_)));
    assert_eq!(e.to_string(), "database unavailable");
    assert!(e.source().is_some());
    let e = db_error(sqlx::Error::RowNotFound);
    assert!(matches!(e, StoreError::Other(_)));
    assert!(e.source().is_some());
}

async fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("nod.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    sqlx::query(
        "INSERT INTO sales_units (client_id, secret_hash, name, redirect_uris, auth_method, allow_nin, ciba_mode, created_at)
         VALUES ('client', x'00', 'C', '[]', 'client_secret_basic', 0, 'poll', 0)",
    )
    .execute(&store.writer)
    .await
    .unwrap();
    (dir, store)
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

/// Stores a login request, sets `column` to `value` behind the store's back (foreign
/// keys off, so a user id that is no UUID can be written), and returns what reading it
/// gives.
async fn read_with(column: &str, value: &str) -> crate::Result<Option<LoginRequest>> {
    let (_dir, store) = store().await;
    let request = login_request();
    store.create_login_request(&request).await.unwrap();
    let mut conn = store.writer.acquire().await.unwrap();
    for sql in [
        "PRAGMA foreign_keys = OFF".to_owned(),
        format!(
            "UPDATE login_requests SET {column} = {value} WHERE id = '{}'",
            request.id
        ),
        "PRAGMA foreign_keys = ON".to_owned(),
    ] {
        sqlx::query(&sql).execute(&mut *conn).await.unwrap();
    }
    drop(conn);
    store.get_login_request(request.id).await
}

#[tokio::test]
async fn a_clean_row_reads_back_as_written() {
    let (_dir, store) = store().await;
    let request = login_request();
    store.create_login_request(&request).await.unwrap();
    assert_eq!(
        store.get_login_request(request.id).await.unwrap(),
        Some(request)
    );
}

#[tokio::test]
async fn corrupt_login_request_columns_are_errors() {
    let cases = [
        ("status", "'teleported'", "login_requests.status"),
        ("amr", "'x'", "login_requests.amr"),
        ("kind", "'carrier_pigeon'", "login_requests.kind"),
        ("flow", "''", "login_requests.flow"),
        ("error", "'oops'", "login_requests.error"),
        ("user_id", "'42'", "login_requests.user_id"),
        ("choices", "'1,2'", "login_requests.choices"),
        ("choices", "'1,2,3,4'", "login_requests.choices"),
        ("choices", "'1,two,3'", "login_requests.choices"),
        ("challenge", "300", "login_requests.challenge"),
        ("challenge", "-1", "login_requests.challenge"),
        ("scopes", "65536", "login_requests.scopes"),
        (
            "delegated_answers",
            "'{not json'",
            "login_requests.delegated_answers",
        ),
        ("auth_req_id", "'abc'", "login_requests.auth_req_id"),
    ];
    for (column, value, named) in cases {
        match read_with(column, value).await {
            Err(StoreError::Corrupt { column: c, .. }) => assert_eq!(c, named, "{column}"),
            other => panic!("{column} = {value}: expected Corrupt, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_value_of_the_wrong_type_is_an_error() {
    let e = read_with("created_at", "'yesterday'").await.unwrap_err();
    assert!(
        matches!(&e, StoreError::Corrupt { column, .. } if column == "created_at"),
        "{e:?}"
    );
    assert!(e.source().is_some());
}

#[tokio::test]
async fn corrupt_users_and_sales_units_are_errors() {
    use crate::{SalesUnitStore, UserStore};
    let (_dir, store) = store().await;
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO users (id, phone_number, given_name, family_name, email, birthdate, nin, addresses, active, created_at)
         VALUES ($1, '4712345678', 'A', 'B', 'a@b.no', '1990-01-01', '1', 'not json', 1, 0)",
    )
    .bind(id.to_string())
    .execute(&store.writer)
    .await
    .unwrap();
    assert!(matches!(
        store.get_user(id).await,
        Err(StoreError::Corrupt { column, .. }) if column == "users.addresses"
    ));
    assert!(store.list_users(10, 0).await.is_err());

    sqlx::query(
        "INSERT INTO sales_units (client_id, secret_hash, name, redirect_uris, auth_method, msn, allow_nin, ciba_mode, created_at)
         VALUES ('c', x'00', 'C', '[]', 'client_secret_jwt', NULL, 0, 'poll', 0)",
    )
    .execute(&store.writer)
    .await
    .unwrap();
    assert!(matches!(
        store.get_sales_unit("c").await,
        Err(StoreError::Corrupt { column, .. }) if column == "sales_units.auth_method"
    ));
}

/// A database at migration 0005, the schema before the foreign keys.
async fn store_at_0005() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("migrations");
    std::fs::create_dir(&old).unwrap();
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for entry in std::fs::read_dir(all).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.as_str() < "0006" {
            std::fs::copy(&path, old.join(name)).unwrap();
        }
    }
    let url = format!("sqlite://{}", dir.path().join("nod.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    let migrator = sqlx::migrate::Migrator::new(old.as_path()).await.unwrap();
    assert_eq!(migrator.iter().count(), 5);
    migrator.run(&store.writer).await.unwrap();
    (dir, store)
}

async fn count(store: &SqliteStore, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&store.writer)
        .await
        .unwrap()
}

#[tokio::test]
async fn migrating_to_foreign_keys_keeps_the_data_and_drops_orphans() {
    use nod_core::grant::AccessToken;
    use nod_core::login::{Device, RememberedBrowser};
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
    sqlx::query(
        "INSERT INTO users (id, phone_number, given_name, family_name, email, birthdate, nin, addresses, active, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, 0)",
    )
    .bind(user.id.to_string())
    .bind(&user.phone_number)
    .bind(&user.given_name)
    .bind(&user.family_name)
    .bind(&user.email)
    .bind(&user.birthdate)
    .bind(&user.nin)
    .bind(serde_json::to_string(&user.addresses).unwrap())
    .execute(&store.writer)
    .await
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
        sqlx::query(
            "INSERT INTO auth_codes (code_hash, client_id, user_id, scopes, sid, auth_time, amr, expires_at)
             VALUES ($1, $2, $3, 1, $4, 0, 'app', 100000)",
        )
        .bind(code)
        .bind(client)
        .bind(user_id.to_string())
        .bind(Uuid::new_v4().to_string())
        .execute(&store.writer)
        .await
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
        let device = Device {
            id: Uuid::new_v4(),
            user_id,
            created_at: 0,
        };
        store.create_device(&device, &[i as u8]).await.unwrap();
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
    sqlx::query(
        "UPDATE login_requests SET ticket_hash = x'01', resume_hash = x'02', phone_hash = x'03',
                kind = 'merchant_initiated', auth_req_id = 'req-1', binding_message = 'ABC-1',
                notification_token = 'n-1', last_polled_at = 7,
                delegated_answers = '[{\"id\":\"terms\",\"accepted\":true}]'
         WHERE id = $1",
    )
    .bind(full.id.to_string())
    .execute(&store.writer)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO auth_codes (code_hash, client_id, user_id, redirect_uri, scopes, nonce, code_challenge,
                code_challenge_method, sid, auth_time, amr, acr, auth_req_id, expires_at, redeemed_at)
         VALUES (x'04', 'client', $1, 'https://example.com/cb', 3, 'n', 'c', 'S256', $2, 1, 'app', 'a', 'r', 100000, 9)",
    )
    .bind(user.id.to_string())
    .bind(Uuid::new_v4().to_string())
    .execute(&store.writer)
    .await
    .unwrap();
    let dump = |table: &'static str, key: String| {
        let store = store.clone();
        async move {
            let columns: Vec<String> = sqlx::query_scalar(&format!(
                "SELECT name FROM pragma_table_info('{table}') ORDER BY name"
            ))
            .fetch_all(&store.writer)
            .await
            .unwrap();
            let row = columns
                .iter()
                .map(|c| format!("quote({c})"))
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            let rows: Vec<String> =
                sqlx::query_scalar(&format!("SELECT {row} FROM {table} WHERE {key} ORDER BY 1"))
                    .fetch_all(&store.writer)
                    .await
                    .unwrap();
            (columns, rows)
        }
    };
    let requests_key = format!("id = '{}'", full.id);
    let codes_key = "code_hash = x'04'".to_owned();
    let requests_before = dump("login_requests", requests_key.clone()).await;
    let codes_before = dump("auth_codes", codes_key.clone()).await;
    assert_eq!(requests_before.1.len(), 1);

    store.migrate().await.unwrap();

    assert_eq!(dump("login_requests", requests_key).await, requests_before);
    assert_eq!(dump("auth_codes", codes_key).await, codes_before);

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
    assert!(store.get_device(&[0]).await.unwrap().is_some());
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
        count(&store, "SELECT COUNT(*) FROM auth_codes").await,
        2,
        "the user's two codes; the orphans are gone"
    );
    assert_eq!(count(&store, "SELECT COUNT(*) FROM access_tokens").await, 1);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM consents").await, 1);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM browsers").await, 1);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM devices").await, 1);
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM activation_codes").await,
        0
    );
    assert!(store.get_device(&[1]).await.unwrap().is_none());

    // The keys hold, and every index is back.
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM pragma_foreign_key_check").await,
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
        assert_eq!(count(&store, &sql).await, keys, "{table}");
    }
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%' ORDER BY name",
    )
    .fetch_all(&store.writer)
    .await
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
    )
    .await;
    assert_eq!(ticket_is_unique, 1);
}

#[tokio::test]
async fn deleting_a_parent_cascades() {
    use nod_core::user::User;

    use crate::{ConsentStore, SalesUnitStore, UserStore};

    let (_dir, store) = store().await;
    let user = User::new(nod_core::demo::demo_users().remove(0), 0);
    store.create_user(&user).await.unwrap();
    let scopes = ScopeSet::parse("name").unwrap();
    store
        .grant_consent(user.id, "client", scopes, 1)
        .await
        .unwrap();
    let mut request = login_request();
    request.user_id = Some(user.id);
    store.create_login_request(&request).await.unwrap();

    store.delete_sales_unit("client").await.unwrap();
    assert!(store.list_consents(user.id).await.unwrap().is_empty());
    assert!(store.get_login_request(request.id).await.unwrap().is_none());
    assert!(store.get_user(user.id).await.unwrap().is_some());
}

/// The query plan of a statement, as `EXPLAIN QUERY PLAN` describes it.
async fn plan(store: &SqliteStore, sql: &str) -> String {
    let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
        .fetch_all(&store.reader)
        .await
        .unwrap();
    rows.into_iter()
        .map(|(_, _, _, detail)| detail)
        .collect::<Vec<_>>()
        .join("; ")
}

#[tokio::test]
async fn partner_lookups_use_an_index() {
    let (_dir, store) = store().await;
    for (sql, index) in [
        (
            "SELECT * FROM sales_units WHERE msn = '1' ORDER BY client_id LIMIT 2",
            "INDEX sales_units_msn",
        ),
        (
            "SELECT msn FROM partner_msns WHERE partner_id = 'p' ORDER BY msn",
            "PRIMARY KEY",
        ),
        (
            "SELECT * FROM partner_tokens WHERE token_hash = x'00' AND expires_at > 0",
            "INDEX sqlite_autoindex_partner_tokens_1",
        ),
        (
            "SELECT * FROM partner_tokens WHERE partner_id = 'p'",
            "INDEX partner_tokens_partner",
        ),
        (
            "SELECT * FROM partner_tokens WHERE expires_at < 0",
            "INDEX partner_tokens_expiry",
        ),
    ] {
        let plan = plan(&store, sql).await;
        assert!(plan.contains(index), "{sql}: {plan}");
    }
}
