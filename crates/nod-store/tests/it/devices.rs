//! Remembered browsers and registered devices.

use nod_core::grant::Redemption;
use nod_core::login::Device;
use uuid::Uuid;

use crate::support::{CLIENT, Fixture, NOW, audit, auth_code, browser, each, scopes};

#[tokio::test]
async fn a_remembered_browser_brings_its_person_and_their_consent() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let b = browser(f.user.id, NOW + 100);
        store.create_browser(&b, b"cookie").await.unwrap();

        let (user, consent) = store
            .get_remembered(b"cookie", CLIENT, NOW)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user, f.user);
        assert_eq!(consent, None, "no consent given yet");

        store
            .grant_consent(f.user.id, CLIENT, scopes("name email"), NOW + 1)
            .await
            .unwrap();
        let (_, consent) = store
            .get_remembered(b"cookie", CLIENT, NOW + 2)
            .await
            .unwrap()
            .unwrap();
        let consent = consent.unwrap();
        assert_eq!(consent.scopes, scopes("name email"));
        assert_eq!(
            (consent.user_id, consent.client_id.as_str()),
            (f.user.id, CLIENT)
        );
        assert_eq!(consent.granted_at, NOW + 1);
        let (_, elsewhere) = store
            .get_remembered(b"cookie", "other-shop", NOW)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(elsewhere, None, "consent is per sales unit");

        assert_eq!(
            store.get_remembered(b"other", CLIENT, NOW).await.unwrap(),
            None
        );
        assert_eq!(
            store
                .get_remembered(b"cookie", CLIENT, NOW + 100)
                .await
                .unwrap(),
            None,
            "expired at expires_at"
        );
        assert_eq!(
            store.list_browsers(f.user.id, NOW).await.unwrap()[0].last_used_at,
            NOW,
            "reading does not mark it used"
        );
    })
    .await;
}

#[tokio::test]
async fn a_remembered_login_stores_its_code_only_while_the_browser_is_remembered() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let b = browser(f.user.id, NOW + 100);
        store.create_browser(&b, b"cookie").await.unwrap();

        let code = auth_code(b"code-1", CLIENT, f.user.id);
        assert!(
            store
                .finish_remembered(b"cookie", &code, NOW + 5, &audit("login_completed"))
                .await
                .unwrap()
        );
        assert_eq!(
            store.list_browsers(f.user.id, NOW).await.unwrap()[0].last_used_at,
            NOW + 5,
            "marked used"
        );
        assert!(matches!(
            store.redeem_code(b"code-1", CLIENT, NOW + 6).await.unwrap(),
            Redemption::Redeemed(_)
        ));

        // Forgotten (or expired) between the read and the write: nothing is stored.
        let late = auth_code(b"code-2", CLIENT, f.user.id);
        assert!(
            !store
                .finish_remembered(b"cookie", &late, NOW + 100, &audit("login_completed"))
                .await
                .unwrap()
        );
        assert!(store.delete_browser(f.user.id, b.id).await.unwrap());
        assert!(
            !store
                .finish_remembered(b"cookie", &late, NOW + 6, &audit("login_completed"))
                .await
                .unwrap()
        );
        assert!(matches!(
            store.redeem_code(b"code-2", CLIENT, NOW + 7).await.unwrap(),
            Redemption::Unknown
        ));
    })
    .await;
}

#[tokio::test]
async fn a_remembered_browser_is_used_until_it_expires() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let b = browser(f.user.id, NOW + 100);
        store.create_browser(&b, b"cookie").await.unwrap();
        assert_eq!(
            store.list_browsers(f.user.id, NOW).await.unwrap(),
            std::slice::from_ref(&b)
        );

        let used = store
            .use_browser(b"cookie", NOW + 10)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(used.id, b.id);
        assert_eq!(used.last_used_at, NOW + 10, "marked used");
        assert_eq!(store.list_browsers(f.user.id, NOW).await.unwrap(), [used]);

        assert_eq!(store.use_browser(b"other", NOW).await.unwrap(), None);
        assert_eq!(
            store.use_browser(b"cookie", NOW + 100).await.unwrap(),
            None,
            "expired at expires_at"
        );
        assert!(
            store
                .list_browsers(f.user.id, NOW + 100)
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn a_browser_is_deleted_only_by_its_user() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let other = f.user("4791234502").await;
        let b = browser(f.user.id, NOW + 100);
        store.create_browser(&b, b"cookie").await.unwrap();
        assert!(!store.delete_browser(other.id, b.id).await.unwrap());
        assert!(store.use_browser(b"cookie", NOW).await.unwrap().is_some());
        assert!(store.delete_browser(f.user.id, b.id).await.unwrap());
        assert!(!store.delete_browser(f.user.id, b.id).await.unwrap());
        assert_eq!(store.use_browser(b"cookie", NOW).await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn a_device_is_found_by_its_token() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let device = Device {
            id: Uuid::new_v4(),
            user_id: f.user.id,
            created_at: NOW,
        };
        store.create_device(&device, b"device-token").await.unwrap();
        assert_eq!(
            store.get_device(b"device-token").await.unwrap(),
            Some(device)
        );
        assert_eq!(store.get_device(b"other").await.unwrap(), None);
    })
    .await;
}
