//! Reading back what this version never writes is an error, never a silent default:
//! each test stores a corrupt value with raw SQL and reads it through the store. The
//! other files test the migrations, the query plans and durability.

use std::error::Error as _;

use nod_core::authorize::{AuthorizeRequest, Flow, Prompt, ResponseMode};
use nod_core::login::LoginRequest;
use nod_core::scope::ScopeSet;
use rusqlite::{Connection, Params};
use uuid::Uuid;

use super::*;
use crate::{LoginRequestStore, StoreError};

mod durability;
mod migrations;
mod plans;

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
    let busy =
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY), None);
    let e = db_error(busy);
    assert!(matches!(e, StoreError::Unavailable(_)));
    assert_eq!(e.to_string(), "database unavailable");
    assert!(e.source().is_some());
    let e = db_error(rusqlite::Error::QueryReturnedNoRows);
    assert!(matches!(e, StoreError::Other(_)));
    assert!(e.source().is_some());
}

#[tokio::test]
async fn violations_are_conflicts() {
    let (_dir, store) = store().await;
    let duplicate = exec(
        &store,
        "INSERT INTO sales_units (client_id, secret_hash, name, redirect_uris, auth_method, allow_nin, ciba_mode, created_at)
         VALUES ('client', x'00', 'C', '[]', 'client_secret_basic', 0, 'poll', 0)",
        [],
    );
    assert!(
        matches!(&duplicate, Err(StoreError::Conflict(m)) if m.contains("UNIQUE constraint failed")),
        "{duplicate:?}"
    );
    let orphan = exec(
        &store,
        "INSERT INTO consents (user_id, client_id, scopes, granted_at) VALUES ('nobody', 'client', 1, 0)",
        [],
    );
    assert!(
        matches!(&orphan, Err(StoreError::Conflict(m)) if m.contains("FOREIGN KEY")),
        "{orphan:?}"
    );
}

/// Runs one statement on the store's writer.
fn exec(store: &SqliteStore, sql: &str, params: impl Params) -> crate::Result<usize> {
    store.write(|conn| execute(conn, sql, params))
}

/// The one integer a query returns, read on the writer.
fn count(store: &SqliteStore, sql: &str) -> i64 {
    store
        .write(|conn| conn.query_row(sql, [], |row| row.get(0)).map_err(db_error))
        .unwrap()
}

/// The first column of every row a query returns, as text.
fn texts(conn: &Connection, sql: &str) -> Vec<String> {
    let mut statement = conn.prepare(sql).unwrap();
    statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("nod.db").display())
}

async fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(&url(&dir)).await.unwrap();
    store.migrate().await.unwrap();
    exec(
        &store,
        "INSERT INTO sales_units (client_id, secret_hash, name, redirect_uris, auth_method, allow_nin, ciba_mode, created_at)
         VALUES ('client', x'00', 'C', '[]', 'client_secret_basic', 0, 'poll', 0)",
        [],
    )
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
    store
        .write(|conn| {
            conn.execute_batch(&format!(
                "PRAGMA foreign_keys = OFF;
                 UPDATE login_requests SET {column} = {value} WHERE id = '{}';
                 PRAGMA foreign_keys = ON;",
                request.id
            ))
            .map_err(db_error)
        })
        .unwrap();
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
    for (column, value) in [
        ("created_at", "'yesterday'"),
        ("created_at", "1.5"),
        ("scopes", "x'01'"),
        ("nonce", "x'00'"),
        ("browser_binding", "'text, not bytes'"),
        ("remember_browser", "'yes'"),
    ] {
        let e = read_with(column, value).await.unwrap_err();
        assert!(
            matches!(&e, StoreError::Corrupt { column: c, .. } if c == column),
            "{column} = {value}: {e:?}"
        );
        assert!(e.source().is_some());
    }
}

#[tokio::test]
async fn corrupt_users_and_sales_units_are_errors() {
    use crate::{SalesUnitStore, UserStore};
    let (_dir, store) = store().await;
    let id = Uuid::new_v4();
    exec(
        &store,
        "INSERT INTO users (id, phone_number, given_name, family_name, email, birthdate, nin, addresses, active, created_at)
         VALUES (?1, '4712345678', 'A', 'B', 'a@b.no', '1990-01-01', '1', 'not json', 1, 0)",
        [id.to_string()],
    )
    .unwrap();
    assert!(matches!(
        store.get_user(id).await,
        Err(StoreError::Corrupt { column, .. }) if column == "users.addresses"
    ));
    assert!(store.list_users(10, 0).await.is_err());

    exec(
        &store,
        "INSERT INTO sales_units (client_id, secret_hash, name, redirect_uris, auth_method, msn, allow_nin, ciba_mode, created_at)
         VALUES ('c', x'00', 'C', '[]', 'client_secret_jwt', NULL, 0, 'poll', 0)",
        [],
    )
    .unwrap();
    assert!(matches!(
        store.get_sales_unit("c").await,
        Err(StoreError::Corrupt { column, .. }) if column == "sales_units.auth_method"
    ));
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

#[tokio::test]
async fn expired_rows_are_purged_in_batches() {
    use crate::GrantStore;
    let (_dir, store) = store().await;
    let user = Uuid::new_v4().to_string();
    exec(
        &store,
        "INSERT INTO users (id, phone_number, given_name, family_name, email, birthdate, nin, addresses, active, created_at)
         VALUES (?1, '4712345678', 'A', 'B', 'a@b.no', '1990-01-01', '1', '[]', 1, 0)",
        [&user],
    )
    .unwrap();
    // 1 234 expired tokens (more than two batches) and one that is still valid.
    store
        .write(|conn| {
            conn.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1235)
                 INSERT INTO access_tokens (token_hash, client_id, user_id, scopes, sid, expires_at)
                 SELECT randomblob(32), 'client', ?1, 1, 's', CASE WHEN i = 1 THEN 2000 ELSE 10 END FROM n",
                [&user],
            )
            .map_err(db_error)
        })
        .unwrap();
    assert_eq!(store.purge_expired(1000).await.unwrap(), 1234);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM access_tokens"), 1);
    assert_eq!(store.purge_expired(1000).await.unwrap(), 0);
}

#[tokio::test]
async fn readers_are_pooled() {
    use crate::UserStore;
    let (_dir, store) = store().await;
    for _ in 0..50 {
        store.get_user(Uuid::new_v4()).await.unwrap();
    }
    let idle = store.inner.readers.lock().unwrap().len();
    assert_eq!(idle, 1, "one reader serves reads one after another");
    store.ping().await.unwrap();
}

#[tokio::test]
async fn urls_name_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.db");
    let store = SqliteStore::connect(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    assert!(path.exists());
    for url in [
        "sqlite::memory:",
        "sqlite://",
        "sqlite://nod.db?mode=ro",
        "nod.db",
    ] {
        assert!(
            matches!(
                SqliteStore::connect(url).await,
                Err(StoreError::UnsupportedUrl(_))
            ),
            "{url}"
        );
    }
}
