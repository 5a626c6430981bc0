//! The demo data test mode seeds: the demo users and the demo sales unit.

use nod_core::sales_unit::{
    AuthMethod, CibaMode, ConsentLinks, ConsentQuestion, ConsentTexts, SalesUnit,
};
use nod_core::{Timestamp, crypto};
use nod_store::{Store, StoreError};

/// The demo sales unit's client id.
pub const DEMO_CLIENT_ID: &str = "demo-client";
/// The demo sales unit's secret: fixed so a restart keeps it. Test mode only.
pub const DEMO_CLIENT_SECRET: &str = "demo-secret-for-test-mode-only-0123456789";

/// Seeds the test users (the special ones too: under 15, unverified e-mail, no address,
/// inactive) and the demo sales unit. Safe to run at every start; returns how
/// many users were created.
pub async fn seed(
    store: &dyn Store,
    public_url: &str,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let users = nod_core::demo::seed_users(now);
    let created = store.import_users(&users).await?;
    let base = public_url.trim_end_matches('/');
    let unit = SalesUnit {
        client_id: DEMO_CLIENT_ID.into(),
        secret_hash: crypto::hash_secret(DEMO_CLIENT_SECRET).to_vec(),
        name: "Demo Shop".into(),
        redirect_uris: vec![
            format!("{base}/demo/callback"),
            format!("{base}/demo/app-callback"),
            format!("{base}/demo/ciba-callback"),
            "http://localhost:3000/callback".to_owned(),
        ],
        auth_method: AuthMethod::ClientSecretBasic,
        msn: Some("123456".into()),
        allow_nin: true,
        ciba_mode: CibaMode::Poll,
        ciba_notification_endpoint: None,
        webhook_url: None,
        consent_texts: Some(demo_consent_texts()),
        created_at: now,
    };
    match store.create_sales_unit(&unit).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => store.update_sales_unit(&unit).await?,
        Err(e) => return Err(e),
    }
    Ok(created)
}

/// The demo shop's consent questions for merchant-initiated logins.
fn demo_consent_texts() -> ConsentTexts {
    ConsentTexts {
        language: "en".into(),
        heading: "Stay in touch with Demo Shop".into(),
        text: "Demo Shop would like to keep you informed.".into(),
        terms_description: "Read how Demo Shop uses your data.".into(),
        confirm_consent_button_text: "Confirm".into(),
        links: ConsentLinks {
            terms_link_text: "Terms".into(),
            terms_link_url: "https://shop.example/terms".into(),
            privacy_statement_link_text: "Privacy statement".into(),
            privacy_statement_link_url: "https://shop.example/privacy".into(),
        },
        consents: vec![
            ConsentQuestion {
                id: "terms".into(),
                required: true,
                text_displayed_to_user: "I accept the membership terms".into(),
            },
            ConsentQuestion {
                id: "newsletter".into(),
                required: false,
                text_displayed_to_user: "Send me offers by email".into(),
            },
        ],
    }
}
