//! Signing keys, settings and the audit log.

use nod_store::{AuditEvent, SigningKey};
use uuid::Uuid;

use crate::support::{NOW, each, race};

fn key(kid: &str, active_from: i64) -> SigningKey {
    SigningKey {
        kid: kid.into(),
        alg: "RS256".into(),
        private_der: vec![1, 2, 3],
        public_n: "n".into(),
        public_e: "AQAB".into(),
        created_at: NOW,
        active_from,
        retired_at: None,
    }
}

#[tokio::test]
async fn signing_keys_are_listed_by_activation() {
    each(|store| async move {
        assert!(store.list_signing_keys().await.unwrap().is_empty());
        let mut retired = key("a-old", NOW - 100);
        retired.retired_at = Some(NOW);
        let next = key("b-next", NOW + 100);
        let current = key("c-current", NOW);
        for k in [&next, &retired, &current] {
            store.insert_signing_key(k).await.unwrap();
        }
        assert_eq!(
            store.list_signing_keys().await.unwrap(),
            [retired, current, next]
        );
    })
    .await;
}

#[tokio::test]
async fn a_setting_keeps_its_first_value() {
    each(|store| async move {
        assert_eq!(
            store.setting_or_init("secret", b"one").await.unwrap(),
            b"one"
        );
        assert_eq!(
            store.setting_or_init("secret", b"two").await.unwrap(),
            b"one"
        );
        assert_eq!(
            store.setting_or_init("other", b"two").await.unwrap(),
            b"two"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_starts_agree_on_one_setting() {
    each(|store| async move {
        for trial in 0..10 {
            let name = format!("secret-{trial}");
            let results = race(8, |i| {
                let store = store.clone();
                let name = name.clone();
                async move { store.setting_or_init(&name, &[i as u8]).await }
            })
            .await;
            let values: Vec<Vec<u8>> = results.into_iter().map(|r| r.unwrap()).collect();
            assert!(
                values.iter().all(|v| *v == values[0]),
                "trial {trial}: {values:?}"
            );
            assert_eq!(
                store.setting_or_init(&name, b"late").await.unwrap(),
                values[0]
            );
        }
    })
    .await;
}

#[tokio::test]
async fn audit_entries_may_name_users_and_units_that_do_not_exist() {
    each(|store| async move {
        let event = AuditEvent {
            at: NOW,
            event: "user_deleted",
            user_id: Some(Uuid::new_v4()),
            client_id: Some("gone"),
            detail: "the log outlives what it names",
        };
        store.record_audit(&event).await.unwrap();
    })
    .await;
}
