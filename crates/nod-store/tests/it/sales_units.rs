//! Sales units: create, read, update, delete, and what a delete takes with it.

use nod_core::grant::AccessToken;
use nod_core::sales_unit::{ConsentLinks, ConsentQuestion, ConsentTexts};
use nod_store::StoreError;
use uuid::Uuid;

use crate::support::{CLIENT, Fixture, NOW, auth_code, each, sales_unit, scopes};

fn consent_texts() -> ConsentTexts {
    ConsentTexts {
        language: "en".into(),
        heading: "Terms".into(),
        text: "Please accept".into(),
        terms_description: "Our terms".into(),
        confirm_consent_button_text: "Accept".into(),
        links: ConsentLinks {
            terms_link_text: "Terms".into(),
            terms_link_url: "https://shop.example/terms".into(),
            privacy_statement_link_text: "Privacy".into(),
            privacy_statement_link_url: "https://shop.example/privacy".into(),
        },
        consents: vec![ConsentQuestion {
            id: "newsletter".into(),
            required: false,
            text_displayed_to_user: "Send me news".into(),
        }],
    }
}

#[tokio::test]
async fn a_created_sales_unit_reads_back_as_given() {
    each(|store| async move {
        let mut unit = sales_unit("b-shop");
        unit.consent_texts = Some(consent_texts());
        unit.webhook_url = Some("https://shop.example/hook".into());
        store.create_sales_unit(&unit).await.unwrap();
        store
            .create_sales_unit(&sales_unit("a-shop"))
            .await
            .unwrap();
        assert_eq!(store.get_sales_unit("b-shop").await.unwrap(), Some(unit));
        assert_eq!(store.get_sales_unit("nobody").await.unwrap(), None);
        let listed: Vec<String> = store
            .list_sales_units()
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.client_id)
            .collect();
        assert_eq!(listed, ["a-shop", "b-shop"], "ordered by client id");
    })
    .await;
}

#[tokio::test]
async fn a_taken_client_id_is_a_conflict() {
    each(|store| async move {
        store.create_sales_unit(&sales_unit("shop")).await.unwrap();
        let mut again = sales_unit("shop");
        again.name = "Another".into();
        let e = store.create_sales_unit(&again).await.unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
        let stored = store.get_sales_unit("shop").await.unwrap().unwrap();
        assert_eq!(stored.name, "Shop shop", "the first one stays");
    })
    .await;
}

#[tokio::test]
async fn update_replaces_the_unit_and_a_missing_one_is_not_found() {
    each(|store| async move {
        store.create_sales_unit(&sales_unit("shop")).await.unwrap();
        let mut changed = sales_unit("shop");
        changed.name = "Renamed".into();
        changed
            .redirect_uris
            .push("https://shop.example/other".into());
        changed.consent_texts = Some(consent_texts());
        changed.allow_nin = true;
        store.update_sales_unit(&changed).await.unwrap();
        assert_eq!(store.get_sales_unit("shop").await.unwrap(), Some(changed));

        let e = store
            .update_sales_unit(&sales_unit("nobody"))
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::NotFound), "{e:?}");
        assert_eq!(store.get_sales_unit("nobody").await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn deleting_a_missing_sales_unit_is_not_found() {
    each(|store| async move {
        let e = store.delete_sales_unit("nobody").await.unwrap_err();
        assert!(matches!(e, StoreError::NotFound), "{e:?}");
    })
    .await;
}

#[tokio::test]
async fn deleting_a_sales_unit_deletes_its_consents_codes_tokens_and_logins() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let other = "other-shop";
        store.create_sales_unit(&sales_unit(other)).await.unwrap();
        let user = f.user.id;
        store
            .grant_consent(user, CLIENT, scopes("name"), NOW)
            .await
            .unwrap();
        store
            .grant_consent(user, other, scopes("name"), NOW)
            .await
            .unwrap();
        let request = f.new_request().await;
        let confirmed = f.confirmed_request().await;
        let code = auth_code(b"code", CLIENT, user);
        let done = store
            .complete_login_request(
                confirmed.id,
                &nod_store::Completion {
                    code: &code,
                    now: NOW,
                    consent: None,
                    browser: None,
                },
                &[],
            )
            .await
            .unwrap();
        assert!(done);
        let token = AccessToken {
            token_hash: b"token".to_vec(),
            client_id: CLIENT.into(),
            user_id: user,
            scopes: scopes("openid name"),
            sid: Uuid::new_v4(),
            code_hash: None,
            expires_at: NOW + 3600,
        };
        store.insert_access_token(&token).await.unwrap();

        store.delete_sales_unit(CLIENT).await.unwrap();

        assert_eq!(store.get_sales_unit(CLIENT).await.unwrap(), None);
        let consents = store.list_consents(user).await.unwrap();
        assert_eq!(consents.len(), 1);
        assert_eq!(consents[0].client_id, other, "other units' consents stay");
        assert_eq!(store.get_login_request(request.id).await.unwrap(), None);
        assert_eq!(store.get_login_request(confirmed.id).await.unwrap(), None);
        assert_eq!(
            store
                .get_access_token_with_user(b"token", NOW)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store.redeem_code(b"code", CLIENT, NOW).await.unwrap(),
            nod_core::grant::Redemption::Unknown
        );
        assert!(store.get_user(user).await.unwrap().is_some(), "users stay");
    })
    .await;
}
