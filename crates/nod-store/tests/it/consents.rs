//! Consents: added to, never narrowed by a grant; listed; revoked.

use uuid::Uuid;

use crate::support::{CLIENT, Fixture, NOW, each, sales_unit, scopes};

#[tokio::test]
async fn granting_adds_scopes_to_the_consent() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let user = f.user.id;
        assert_eq!(store.get_consent(user, CLIENT).await.unwrap(), None);
        store
            .grant_consent(user, CLIENT, scopes("name email"), NOW)
            .await
            .unwrap();
        store
            .grant_consent(user, CLIENT, scopes("email address"), NOW + 5)
            .await
            .unwrap();
        let consent = store.get_consent(user, CLIENT).await.unwrap().unwrap();
        assert_eq!(consent.user_id, user);
        assert_eq!(consent.client_id, CLIENT);
        assert_eq!(consent.scopes, scopes("name email address"));
        assert_eq!(consent.granted_at, NOW + 5);
        assert_eq!(
            store.get_consent(Uuid::new_v4(), CLIENT).await.unwrap(),
            None
        );
    })
    .await;
}

#[tokio::test]
async fn consents_are_listed_per_user_by_client_and_revoked_once() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let other = f.user("4791234502").await;
        store
            .create_sales_unit(&sales_unit("a-shop"))
            .await
            .unwrap();
        for client in [CLIENT, "a-shop"] {
            store
                .grant_consent(f.user.id, client, scopes("name"), NOW)
                .await
                .unwrap();
        }
        store
            .grant_consent(other.id, CLIENT, scopes("nin"), NOW)
            .await
            .unwrap();
        let clients: Vec<String> = store
            .list_consents(f.user.id)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.client_id)
            .collect();
        assert_eq!(clients, ["a-shop", CLIENT]);

        assert!(store.revoke_consent(f.user.id, CLIENT).await.unwrap());
        assert!(!store.revoke_consent(f.user.id, CLIENT).await.unwrap());
        assert_eq!(store.get_consent(f.user.id, CLIENT).await.unwrap(), None);
        assert_eq!(store.list_consents(f.user.id).await.unwrap().len(), 1);
        assert!(
            store.get_consent(other.id, CLIENT).await.unwrap().is_some(),
            "another user's consent stays"
        );
    })
    .await;
}
