//! Partners: stored with their MSNs, listed, deleted with their MSNs and tokens; partner
//! tokens valid until they expire and purged after; the lookup of a sales unit by MSN,
//! which refuses an MSN several sales units share.

use nod_core::partner::{Partner, PartnerToken};
use nod_store::{MsnMatch, StoreError};

use crate::support::{CLIENT, Fixture, NOW, each, sales_unit};

fn partner(id: &str, msns: &[&str]) -> Partner {
    Partner {
        id: id.into(),
        secret_hash: vec![9; 32],
        name: format!("Partner {id}"),
        msns: msns.iter().map(|m| (*m).to_owned()).collect(),
        created_at: NOW,
    }
}

fn token(hash: u8, partner_id: &str, expires_at: i64) -> PartnerToken {
    PartnerToken {
        token_hash: vec![hash; 32],
        partner_id: partner_id.into(),
        expires_at,
    }
}

#[tokio::test]
async fn partners_are_stored_with_their_msns_and_listed_by_id() {
    each(|store| async move {
        let b = partner("b-partner", &["123456", "654321"]);
        let a = partner("a-partner", &["111"]);
        store.create_partner(&b).await.unwrap();
        store.create_partner(&a).await.unwrap();
        assert_eq!(
            store.get_partner("b-partner").await.unwrap(),
            Some(b.clone())
        );
        assert_eq!(store.get_partner("nobody").await.unwrap(), None);
        assert_eq!(store.list_partners().await.unwrap(), [a, b]);
    })
    .await;
}

#[tokio::test]
async fn a_partner_id_is_taken_once() {
    each(|store| async move {
        store.create_partner(&partner("p", &["1"])).await.unwrap();
        let again = store.create_partner(&partner("p", &["2"])).await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        assert_eq!(
            store.get_partner("p").await.unwrap().unwrap().msns,
            ["1"],
            "the refused partner left nothing behind"
        );
    })
    .await;
}

#[tokio::test]
async fn deleting_a_partner_deletes_its_msns_and_tokens() {
    each(|store| async move {
        store
            .create_partner(&partner("p", &["123456"]))
            .await
            .unwrap();
        store
            .insert_partner_token(&token(1, "p", NOW + 60))
            .await
            .unwrap();
        store.delete_partner("p").await.unwrap();
        assert_eq!(store.get_partner("p").await.unwrap(), None);
        assert_eq!(store.get_partner_token(&[1; 32], NOW).await.unwrap(), None);
        assert!(matches!(
            store.delete_partner("p").await,
            Err(StoreError::NotFound)
        ));
        // The id is free again, without the old MSNs.
        store.create_partner(&partner("p", &["9"])).await.unwrap();
        assert_eq!(store.get_partner("p").await.unwrap().unwrap().msns, ["9"]);
    })
    .await;
}

#[tokio::test]
async fn partner_tokens_are_valid_until_they_expire_and_then_purged() {
    each(|store| async move {
        store.create_partner(&partner("p", &["1"])).await.unwrap();
        let t = token(1, "p", NOW + 60);
        store.insert_partner_token(&t).await.unwrap();
        assert_eq!(
            store.get_partner_token(&[1; 32], NOW).await.unwrap(),
            Some(t.clone())
        );
        assert_eq!(store.get_partner_token(&[2; 32], NOW).await.unwrap(), None);
        assert_eq!(
            store.get_partner_token(&[1; 32], NOW + 60).await.unwrap(),
            None,
            "expired at expires_at"
        );
        assert!(store.purge_expired(NOW + 61).await.unwrap() >= 1);
        assert_eq!(store.get_partner_token(&[1; 32], NOW).await.unwrap(), None);
        // A token of an unknown partner is refused by the foreign key.
        let orphan = store
            .insert_partner_token(&token(3, "nobody", NOW + 60))
            .await;
        assert!(matches!(orphan, Err(StoreError::Conflict(_))), "{orphan:?}");
    })
    .await;
}

#[tokio::test]
async fn a_sales_unit_is_found_by_its_msn_unless_several_share_it() {
    each(|store| async move {
        let _f = Fixture::new(store.clone()).await; // CLIENT has MSN 123456
        assert_eq!(
            store.sales_unit_by_msn("123456").await.unwrap(),
            MsnMatch::One(Box::new(
                store.get_sales_unit(CLIENT).await.unwrap().unwrap()
            ))
        );
        assert_eq!(
            store.sales_unit_by_msn("999").await.unwrap(),
            MsnMatch::None
        );
        let mut no_msn = sales_unit("no-msn");
        no_msn.msn = None;
        store.create_sales_unit(&no_msn).await.unwrap();
        assert_eq!(store.sales_unit_by_msn("").await.unwrap(), MsnMatch::None);
        store.create_sales_unit(&sales_unit("twin")).await.unwrap();
        assert_eq!(
            store.sales_unit_by_msn("123456").await.unwrap(),
            MsnMatch::Ambiguous
        );
        store.delete_sales_unit("twin").await.unwrap();
        assert!(matches!(
            store.sales_unit_by_msn("123456").await.unwrap(),
            MsnMatch::One(_)
        ));
    })
    .await;
}
