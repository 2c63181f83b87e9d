//! `gongzhi admin revoke-tokens USER` through the real binary, against SQLite
//! and PostgreSQL.

use gongzhi_store::{audit, auth};
use gongzhi_testkit::both;
use gongzhi_testkit::{fresh, Kind};
use std::process::{Command, Output};

fn revoke(url: &str, user: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gongzhi"))
        .args(["admin", "revoke-tokens", user, "--database-url", url])
        .output()
        .unwrap()
}

async fn revoke_tokens_ends_every_token_and_session(kind: Kind) {
    let f = fresh(kind).await;
    let (tokens, bobs) =
        f.db.write(|tx| {
            Box::pin(async move {
                let alice = auth::create_user(tx, "t", "alice", "x", None).await?;
                let bob = auth::create_user(tx, "t", "bob", "x", None).await?;
                let mut tokens = Vec::new();
                for name in ["laptop", "script"] {
                    tokens.push(auth::create_api_token(tx, "t", &alice, name).await?.1);
                }
                let bobs = auth::create_api_token(tx, "t", &bob, "bob").await?.1;
                Ok((tokens, bobs))
            })
        })
        .await
        .unwrap();
    let alice = auth::user_id_by_name(&f.db, "alice").await.unwrap();
    let session = auth::create_session(&f.db, &alice).await.unwrap();
    assert!(auth::session_user(&f.db, &session).await.unwrap().is_some());

    let out = revoke(&f.url, "alice");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("revoked 2 API token(s) and 1 session(s) of alice"),
        "{stdout}"
    );
    for t in &tokens {
        assert_eq!(auth::token_user(&f.db, t).await.unwrap(), None);
    }
    assert_eq!(auth::session_user(&f.db, &session).await.unwrap(), None);
    assert!(
        auth::token_user(&f.db, &bobs).await.unwrap().is_some(),
        "another user's token lives on"
    );
    let entries = audit::list(&f.db, "/", 100).await.unwrap();
    let rev: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "user.revoke_credentials")
        .collect();
    assert_eq!(rev.len(), 1);
    assert_eq!(rev[0].actor, "cli");
    assert_eq!(rev[0].entity_id, alice);

    let again = revoke(&f.url, "alice");
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("revoked 0 API token(s) and 0 session(s)")
    );

    let unknown = revoke(&f.url, "nobody");
    assert!(!unknown.status.success(), "an unknown user fails");
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("no user 'nobody'"),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );
}

both!(revoke_tokens_ends_every_token_and_session);
