//! The discovery document: what a merchant's library reads first, pinned by a snapshot.

use nod_server::paths;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn the_discovery_document() {
    let app = TestApp::builder().spawn().await;
    let doc = app.merchant().discovery().await;
    assert_eq!(doc["issuer"], app.issuer());
    for (field, path) in [
        ("authorization_endpoint", paths::AUTHORIZE),
        ("token_endpoint", paths::TOKEN),
        ("userinfo_endpoint", paths::USERINFO),
        ("jwks_uri", paths::JWKS),
        ("backchannel_authentication_endpoint", paths::CIBA_START),
    ] {
        assert_eq!(doc[field], app.url(path), "{field}");
    }
    assert_eq!(
        doc["backchannel_token_delivery_modes_supported"],
        json!(["poll", "ping"])
    );
    let grants = doc["grant_types_supported"].as_array().unwrap();
    assert!(grants.contains(&json!(CIBA_GRANT)));
    assert!(grants.contains(&json!(CIBA_REDIRECT_GRANT)));
    insta::assert_json_snapshot!("discovery", scrub_base(&doc, &app.base));
}
