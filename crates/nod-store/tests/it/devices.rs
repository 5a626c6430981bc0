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

fn device(user_id: Uuid, name: Option<&str>, created_at: i64) -> Device {
    Device {
        id: Uuid::new_v4(),
        user_id,
        name: name.map(str::to_owned),
        created_at,
        last_used_at: created_at,
        expires_at: created_at + 3600,
    }
}

#[tokio::test]
async fn a_device_is_found_by_its_token_until_it_expires() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let device = device(f.user.id, Some("Kari's phone"), NOW);
        store.create_device(&device, b"device-token").await.unwrap();
        assert_eq!(
            store.get_device(b"device-token", NOW).await.unwrap(),
            Some(device.clone())
        );
        assert_eq!(store.get_device(b"other", NOW).await.unwrap(), None);
        assert_eq!(
            store.get_device(b"device-token", NOW + 3600).await.unwrap(),
            None,
            "expired"
        );
        // A use pushes the expiry on.
        store
            .use_device(device.id, NOW + 3000, NOW + 9000)
            .await
            .unwrap();
        let used = store
            .get_device(b"device-token", NOW + 3600)
            .await
            .unwrap()
            .expect("still works");
        assert_eq!(
            (used.last_used_at, used.expires_at),
            (NOW + 3000, NOW + 9000)
        );
        // An expired device is not brought back by a late use.
        store
            .use_device(device.id, NOW + 9000, NOW + 20_000)
            .await
            .unwrap();
        assert_eq!(
            store.get_device(b"device-token", NOW + 9000).await.unwrap(),
            None
        );
        assert_eq!(store.purge_expired(NOW + 9001).await.unwrap(), 1);
        assert!(store.list_devices(f.user.id, NOW).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn devices_are_listed_and_deleted_by_their_person_only() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let other = f.user("4791234502").await;
        let old = device(f.user.id, None, NOW - 100);
        let new = device(f.user.id, Some("Tablet"), NOW);
        let theirs = device(other.id, None, NOW);
        store.create_device(&old, b"old").await.unwrap();
        store.create_device(&new, b"new").await.unwrap();
        store.create_device(&theirs, b"theirs").await.unwrap();
        assert_eq!(
            store.list_devices(f.user.id, NOW).await.unwrap(),
            vec![new.clone(), old.clone()],
            "newest first, the person's own"
        );
        assert!(
            !store
                .delete_device(f.user.id, theirs.id, &audit("device_revoked"))
                .await
                .unwrap(),
            "not another person's"
        );
        assert!(store.get_device(b"theirs", NOW).await.unwrap().is_some());
        assert!(
            store
                .delete_device(f.user.id, old.id, &audit("device_revoked"))
                .await
                .unwrap()
        );
        assert_eq!(store.get_device(b"old", NOW).await.unwrap(), None);
        assert!(
            !store
                .delete_device(f.user.id, old.id, &audit("device_revoked"))
                .await
                .unwrap(),
            "once"
        );
        assert_eq!(store.list_devices(f.user.id, NOW).await.unwrap(), vec![new]);
    })
    .await;
}
