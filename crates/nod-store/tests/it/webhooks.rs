//! Webhook registrations: created under a limit per sales unit and event (concurrency
//! included), listed per sales unit and per event, deleted only by their sales unit,
//! and deleted with it.

use nod_core::webhook::{Webhook, WebhookEvent};
use uuid::Uuid;

use crate::support::{CLIENT, Fixture, NOW, each, race, sales_unit};

const PING: WebhookEvent = WebhookEvent::MerchantInitiatedPing;

fn webhook(client_id: &str, n: i64) -> Webhook {
    Webhook {
        id: Uuid::new_v4(),
        client_id: client_id.into(),
        url: format!("https://shop.example/hooks/{n}"),
        events: vec![PING],
        secret: format!("secret-{n}"),
        created_at: NOW + n,
    }
}

#[tokio::test]
async fn registrations_are_stored_as_given_and_listed_oldest_first() {
    each(|store| async move {
        let _f = Fixture::new(store.clone()).await;
        store.create_sales_unit(&sales_unit("other")).await.unwrap();
        let second = webhook(CLIENT, 2);
        let first = webhook(CLIENT, 1);
        let others = webhook("other", 0);
        for w in [&second, &first, &others] {
            assert!(store.create_webhook(w, 25).await.unwrap());
        }
        assert_eq!(
            store.list_webhooks(CLIENT).await.unwrap(),
            [first.clone(), second.clone()]
        );
        assert_eq!(
            store.list_webhooks_for_event(CLIENT, PING).await.unwrap(),
            [first, second]
        );
        assert_eq!(store.list_webhooks("other").await.unwrap(), [others]);
        assert!(store.list_webhooks("nobody").await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_registration_is_deleted_only_by_its_sales_unit() {
    each(|store| async move {
        let _f = Fixture::new(store.clone()).await;
        store.create_sales_unit(&sales_unit("other")).await.unwrap();
        let w = webhook(CLIENT, 1);
        assert!(store.create_webhook(&w, 25).await.unwrap());
        assert!(!store.delete_webhook("other", w.id).await.unwrap());
        assert!(!store.delete_webhook(CLIENT, Uuid::new_v4()).await.unwrap());
        assert_eq!(store.list_webhooks(CLIENT).await.unwrap().len(), 1);
        assert!(store.delete_webhook(CLIENT, w.id).await.unwrap());
        assert!(!store.delete_webhook(CLIENT, w.id).await.unwrap());
        assert!(store.list_webhooks(CLIENT).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn the_limit_counts_per_sales_unit_and_event() {
    each(|store| async move {
        let _f = Fixture::new(store.clone()).await;
        store.create_sales_unit(&sales_unit("other")).await.unwrap();
        for n in 0..3 {
            assert!(store.create_webhook(&webhook(CLIENT, n), 3).await.unwrap());
        }
        assert!(
            !store.create_webhook(&webhook(CLIENT, 3), 3).await.unwrap(),
            "a fourth for the same event is refused"
        );
        assert_eq!(store.list_webhooks(CLIENT).await.unwrap().len(), 3);
        assert!(
            store.create_webhook(&webhook("other", 0), 3).await.unwrap(),
            "another sales unit has its own count"
        );
        let first = store.list_webhooks(CLIENT).await.unwrap()[0].id;
        assert!(store.delete_webhook(CLIENT, first).await.unwrap());
        assert!(
            store.create_webhook(&webhook(CLIENT, 4), 3).await.unwrap(),
            "a deleted registration frees its place"
        );
    })
    .await;
}

#[tokio::test]
async fn concurrent_registrations_never_pass_the_limit() {
    each(|store| async move {
        let _f = Fixture::new(store.clone()).await;
        let created = race(20, |n| {
            let store = store.clone();
            async move {
                store
                    .create_webhook(&webhook(CLIENT, n as i64), 5)
                    .await
                    .unwrap()
            }
        })
        .await;
        assert_eq!(created.iter().filter(|c| **c).count(), 5);
        assert_eq!(store.list_webhooks(CLIENT).await.unwrap().len(), 5);
    })
    .await;
}

#[tokio::test]
async fn deleting_a_sales_unit_deletes_its_registrations() {
    each(|store| async move {
        let _f = Fixture::new(store.clone()).await;
        assert!(store.create_webhook(&webhook(CLIENT, 1), 25).await.unwrap());
        store.delete_sales_unit(CLIENT).await.unwrap();
        assert!(store.list_webhooks(CLIENT).await.unwrap().is_empty());
        store.create_sales_unit(&sales_unit(CLIENT)).await.unwrap();
        assert!(store.list_webhooks(CLIENT).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_registration_needs_its_sales_unit() {
    each(|store| async move {
        let _f = Fixture::new(store.clone()).await;
        assert!(
            store
                .create_webhook(&webhook("nobody", 1), 25)
                .await
                .is_err()
        );
    })
    .await;
}
