//! Remembered browsers and registered devices.

use nod_core::login::Device;
use uuid::Uuid;

use crate::support::{Fixture, NOW, browser, each};

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
