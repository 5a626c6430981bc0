//! The outbox and the leases: a delivery is claimed by one worker at a time, held until
//! its hold runs out (so a worker that died lets go), retried when let go, and gone when
//! finished; a lease belongs to one holder until it runs out, and its holder renews it.

use nod_store::{Delivery, DeliveryAuth};
use uuid::Uuid;

use crate::support::{NOW, each, race};

fn delivery(n: i64, auth: DeliveryAuth) -> Delivery {
    Delivery {
        id: Uuid::new_v4(),
        url: format!("https://shop.example/hooks/{n}"),
        content_type: "application/json".into(),
        body: format!("{{\"n\":{n}}}").into_bytes(),
        auth,
        attempts: 0,
        due_at: NOW + n,
        created_at: NOW,
    }
}

#[tokio::test]
async fn deliveries_come_back_as_stored_when_due_oldest_first() {
    each(|store| async move {
        let later = delivery(5, DeliveryAuth::Hmac("key".into()));
        let first = delivery(0, DeliveryAuth::Bearer("token".into()));
        let second = delivery(1, DeliveryAuth::None);
        for d in [&later, &second, &first] {
            store.enqueue_delivery(d).await.unwrap();
        }
        let claimed = store.claim_deliveries(NOW + 1, NOW + 60, 10).await.unwrap();
        assert_eq!(
            claimed,
            [first, second],
            "only what is due, oldest due first"
        );
        let claimed = store.claim_deliveries(NOW + 5, NOW + 60, 10).await.unwrap();
        assert_eq!(claimed, [later]);
    })
    .await;
}

#[tokio::test]
async fn a_claimed_delivery_is_held_until_its_hold_runs_out() {
    each(|store| async move {
        let d = delivery(0, DeliveryAuth::None);
        store.enqueue_delivery(&d).await.unwrap();
        assert_eq!(
            store
                .claim_deliveries(NOW, NOW + 60, 10)
                .await
                .unwrap()
                .len(),
            1
        );
        // Held: nobody else gets it, however often they ask, until the hold runs out
        // (the worker that claimed it died).
        assert!(
            store
                .claim_deliveries(NOW + 59, NOW + 120, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let again = store
            .claim_deliveries(NOW + 60, NOW + 120, 10)
            .await
            .unwrap();
        assert_eq!(again, std::slice::from_ref(&d));
        // Finished: gone for good.
        store.finish_delivery(d.id).await.unwrap();
        assert!(
            store
                .claim_deliveries(NOW + 999, NOW + 9999, 10)
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn a_retried_delivery_is_let_go_until_its_next_attempt() {
    each(|store| async move {
        let d = delivery(0, DeliveryAuth::Bearer("token".into()));
        store.enqueue_delivery(&d).await.unwrap();
        store.claim_deliveries(NOW, NOW + 60, 10).await.unwrap();
        store.retry_delivery(d.id, 1, NOW + 5).await.unwrap();
        assert!(
            store
                .claim_deliveries(NOW + 4, NOW + 60, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let claimed = store.claim_deliveries(NOW + 5, NOW + 60, 10).await.unwrap();
        assert_eq!(
            claimed,
            [Delivery {
                attempts: 1,
                due_at: NOW + 5,
                ..d
            }]
        );
    })
    .await;
}

#[tokio::test]
async fn claims_take_at_most_the_limit() {
    each(|store| async move {
        for n in 0..5 {
            store
                .enqueue_delivery(&delivery(n, DeliveryAuth::None))
                .await
                .unwrap();
        }
        assert_eq!(
            store
                .claim_deliveries(NOW + 9, NOW + 60, 2)
                .await
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            store
                .claim_deliveries(NOW + 9, NOW + 60, 9)
                .await
                .unwrap()
                .len(),
            3
        );
    })
    .await;
}

#[tokio::test]
async fn concurrent_claims_never_share_a_delivery() {
    each(|store| async move {
        let mut ids: Vec<Uuid> = Vec::new();
        for n in 0..40 {
            let d = delivery(n % 3, DeliveryAuth::None);
            ids.push(d.id);
            store.enqueue_delivery(&d).await.unwrap();
        }
        let claims = race(8, |_| {
            let store = store.clone();
            async move { store.claim_deliveries(NOW + 9, NOW + 60, 7).await.unwrap() }
        })
        .await;
        let mut claimed: Vec<Uuid> = claims.iter().flatten().map(|d| d.id).collect();
        assert_eq!(claimed.len(), 40, "every delivery claimed once: {claims:?}");
        claimed.sort();
        claimed.dedup();
        ids.sort();
        assert_eq!(claimed, ids);
    })
    .await;
}

#[tokio::test]
async fn a_lease_has_one_holder_until_it_runs_out() {
    each(|store| async move {
        assert!(store.take_lease("purge", "a", NOW, NOW + 60).await.unwrap());
        assert!(
            !store
                .take_lease("purge", "b", NOW + 1, NOW + 61)
                .await
                .unwrap()
        );
        // Its holder renews it.
        assert!(
            store
                .take_lease("purge", "a", NOW + 30, NOW + 90)
                .await
                .unwrap()
        );
        assert!(
            !store
                .take_lease("purge", "b", NOW + 89, NOW + 149)
                .await
                .unwrap()
        );
        // Another lease is another matter.
        assert!(store.take_lease("other", "b", NOW, NOW + 60).await.unwrap());
        // Run out: the next one who asks has it.
        assert!(
            store
                .take_lease("purge", "b", NOW + 90, NOW + 150)
                .await
                .unwrap()
        );
        assert!(
            !store
                .take_lease("purge", "a", NOW + 91, NOW + 151)
                .await
                .unwrap()
        );
    })
    .await;
}

#[tokio::test]
async fn concurrent_takers_of_a_free_lease_get_it_once() {
    each(|store| async move {
        let taken = race(10, |n| {
            let store = store.clone();
            async move {
                store
                    .take_lease("purge", &format!("instance-{n}"), NOW, NOW + 60)
                    .await
                    .unwrap()
            }
        })
        .await;
        assert_eq!(taken.iter().filter(|t| **t).count(), 1, "{taken:?}");
    })
    .await;
}
