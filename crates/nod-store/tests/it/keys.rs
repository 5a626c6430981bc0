//! Signing keys, settings and the audit log.

use nod_store::{AuditEvent, SigningKey};
use uuid::Uuid;

use crate::support::{NOW, each, race};

fn key(kid: &str, active_from: i64) -> SigningKey {
    SigningKey {
        kid: kid.into(),
        alg: "RS256".into(),
        private_der: vec![1, 2, 3],
        public_jwk: r#"{"kty":"RSA","n":"n","e":"AQAB"}"#.into(),
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

#[tokio::test]
async fn a_rotation_stores_the_new_key_and_retires_the_others_with_its_audit_entry() {
    each(|store| async move {
        let mut retired = key("a-old", NOW - 100);
        retired.retired_at = Some(NOW - 10);
        let current = key("b-current", NOW - 50);
        for k in [&retired, &current] {
            store.insert_signing_key(k).await.unwrap();
        }
        let mut next = key("c-next", NOW + 3600);
        next.alg = "ES256".into();
        next.public_jwk = r#"{"kty":"EC","crv":"P-256","x":"x","y":"y"}"#.into();
        let audit = AuditEvent {
            at: NOW,
            event: "key_rotated",
            user_id: None,
            client_id: None,
            detail: "c-next",
        };
        store
            .rotate_signing_key(&next, NOW + 7200, &audit)
            .await
            .unwrap();
        let keys = store.list_signing_keys().await.unwrap();
        assert_eq!(keys.len(), 3);
        assert_eq!(keys[0].retired_at, Some(NOW - 10), "an earlier date stays");
        assert_eq!(keys[1].retired_at, Some(NOW + 7200));
        assert_eq!(keys[2], next, "the new key is stored as it was given");
        let entries = store.list_audit(None, None, 10).await.unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(
            (entries[0].event.as_str(), entries[0].detail.as_str()),
            ("key_rotated", "c-next")
        );
        // A kid that exists already: nothing of the rotation is kept.
        let again = key("b-current", NOW + 10);
        assert!(store.rotate_signing_key(&again, NOW, &audit).await.is_err());
        assert_eq!(store.list_signing_keys().await.unwrap(), keys);
        assert_eq!(store.list_audit(None, None, 10).await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn audit_entries_are_listed_newest_first_by_time_and_user() {
    each(|store| async move {
        let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
        for (at, event, user) in [
            (NOW - 300, "login_confirmed", Some(alice)),
            (NOW - 200, "consent_given", Some(bob)),
            (NOW - 100, "key_rotated", None),
            (NOW - 100, "consent_revoked", Some(alice)),
            (NOW, "browser_forgotten", Some(alice)),
        ] {
            let entry = AuditEvent {
                at,
                event,
                user_id: user,
                client_id: user.map(|_| "shop"),
                detail: "",
            };
            store.record_audit(&entry).await.unwrap();
        }
        let events = |entries: Vec<nod_store::AuditEntry>| -> Vec<String> {
            entries.into_iter().map(|e| e.event).collect()
        };
        assert_eq!(
            events(store.list_audit(None, None, 100).await.unwrap()),
            [
                "browser_forgotten",
                "consent_revoked",
                "key_rotated",
                "consent_given",
                "login_confirmed"
            ],
            "newest first; of two at one time, the later written first"
        );
        assert_eq!(
            events(store.list_audit(None, None, 2).await.unwrap()),
            ["browser_forgotten", "consent_revoked"]
        );
        assert_eq!(
            events(store.list_audit(None, Some(alice), 100).await.unwrap()),
            ["browser_forgotten", "consent_revoked", "login_confirmed"]
        );
        assert_eq!(
            events(
                store
                    .list_audit(Some(NOW - 100), Some(alice), 100)
                    .await
                    .unwrap()
            ),
            ["browser_forgotten", "consent_revoked"]
        );
        assert_eq!(
            events(store.list_audit(Some(NOW - 200), None, 100).await.unwrap()),
            [
                "browser_forgotten",
                "consent_revoked",
                "key_rotated",
                "consent_given"
            ]
        );
        let newest = &store.list_audit(None, Some(bob), 1).await.unwrap()[0];
        assert_eq!(newest.user_id, Some(bob));
        assert_eq!(newest.client_id.as_deref(), Some("shop"));
        assert_eq!(newest.at, NOW - 200);
        assert!(
            store
                .list_audit(None, Some(Uuid::new_v4()), 100)
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn the_audit_purge_deletes_only_entries_older_than_the_retention() {
    each(|store| async move {
        // More than one batch of old entries.
        for i in 0..1_050 {
            let entry = AuditEvent {
                at: NOW - 1000 - i,
                event: "login_confirmed",
                user_id: None,
                client_id: None,
                detail: "",
            };
            store.record_audit(&entry).await.unwrap();
        }
        for at in [NOW - 999, NOW] {
            let entry = AuditEvent {
                at,
                event: "key_rotated",
                user_id: None,
                client_id: None,
                detail: "",
            };
            store.record_audit(&entry).await.unwrap();
        }
        assert_eq!(store.purge_audit(NOW - 999).await.unwrap(), 1_050);
        let left = store.list_audit(None, None, 10_000).await.unwrap();
        assert_eq!(
            left.iter().map(|e| e.at).collect::<Vec<_>>(),
            [NOW, NOW - 999]
        );
        assert_eq!(store.purge_audit(NOW - 999).await.unwrap(), 0);
    })
    .await;
}
