//! The `nod` binary's administration commands, run as a newcomer would run them, on a
//! fresh SQLite database.

#![expect(
    clippy::unwrap_used,
    reason = "the helpers outside #[test] functions fail the test by unwrapping, as the tests do"
)]

use std::process::{Command, Output};

use serde_json::Value;

struct Nod {
    dir: tempfile::TempDir,
}

impl Nod {
    fn new() -> Nod {
        Nod {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let database = format!("sqlite://{}", self.dir.path().join("nod.db").display());
        Command::new(env!("CARGO_BIN_EXE_nod"))
            .args(["--database", &database])
            .args(args)
            .env_remove("NOD_DATABASE_URL")
            .output()
            .unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.run(&all);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn fails(&self, args: &[&str], message: &str) {
        let out = self.run(args);
        assert!(!out.status.success(), "{args:?} should fail");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(message),
            "{args:?}: expected '{message}' in {stderr}"
        );
    }
}

#[test]
fn sales_unit_lifecycle() {
    let nod = Nod::new();
    let created = nod.json(&[
        "sales-unit",
        "create",
        "--name",
        "Coffee Shop",
        "--redirect-uri",
        "https://coffee.example/cb",
        "--redirect-uri",
        "coffeeapp://cb",
        "--msn",
        "654321",
        "--allow-nin",
        "--auth-method",
        "client_secret_post",
    ]);
    let client_id = created["client_id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap();
    assert_eq!(secret.len(), 43, "256 random bits, base64url");
    assert_eq!(created["auth_method"], "client_secret_post");
    assert_eq!(created["redirect_uris"].as_array().unwrap().len(), 2);

    let shown = nod.json(&["sales-unit", "show", &client_id]);
    assert_eq!(shown["name"], "Coffee Shop");
    assert_eq!(shown["allow_nin"], true);
    assert!(
        shown.get("client_secret").is_none(),
        "the secret is shown only once"
    );

    let updated = nod.json(&[
        "sales-unit",
        "update",
        &client_id,
        "--name",
        "Tea Shop",
        "--allow-nin",
        "false",
        "--rotate-secret",
    ]);
    assert_eq!(updated["name"], "Tea Shop");
    assert_eq!(updated["allow_nin"], false);
    assert_ne!(updated["client_secret"].as_str().unwrap(), secret);

    // The Login API's own webhook (CONSENT_REVOKED): set, shown, changed, removed.
    let hooked = nod.json(&[
        "sales-unit",
        "update",
        &client_id,
        "--webhook-url",
        "https://tea.example/hooks/consent",
    ]);
    assert_eq!(hooked["webhook_url"], "https://tea.example/hooks/consent");
    let shown = nod.json(&["sales-unit", "show", &client_id]);
    assert_eq!(shown["webhook_url"], "https://tea.example/hooks/consent");
    nod.fails(
        &[
            "sales-unit",
            "update",
            &client_id,
            "--webhook-url",
            "ftp://tea.example/x",
        ],
        "http or https",
    );
    let unhooked = nod.json(&["sales-unit", "update", &client_id, "--webhook-url", ""]);
    assert_eq!(unhooked["webhook_url"], Value::Null);

    let listed = nod.json(&["sales-unit", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let deleted = nod.json(&["sales-unit", "delete", &client_id]);
    assert_eq!(deleted["deleted"], client_id.as_str());
    assert!(
        nod.json(&["sales-unit", "list"])
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn sales_unit_bad_input() {
    let nod = Nod::new();
    nod.json(&[
        "sales-unit",
        "create",
        "--name",
        "A",
        "--redirect-uri",
        "https://a.example/cb",
        "--client-id",
        "shop-a",
    ]);
    nod.fails(
        &[
            "sales-unit",
            "create",
            "--name",
            "A",
            "--redirect-uri",
            "https://a.example/cb",
            "--client-id",
            "shop-a",
        ],
        "exists already",
    );
    nod.fails(
        &[
            "sales-unit",
            "create",
            "--name",
            "B",
            "--redirect-uri",
            "/relative",
        ],
        "not an absolute URI",
    );
    nod.fails(
        &[
            "sales-unit",
            "create",
            "--name",
            "B",
            "--redirect-uri",
            "https://b.example/cb#frag",
        ],
        "fragment",
    );
    nod.fails(
        &[
            "sales-unit",
            "create",
            "--name",
            "B",
            "--redirect-uri",
            "https://b.example/cb",
            "--client-secret",
            "short",
        ],
        "at least 32",
    );
    nod.fails(
        &[
            "sales-unit",
            "create",
            "--name",
            "B",
            "--redirect-uri",
            "https://b.example/cb",
            "--client-id",
            "has space",
        ],
        "client id",
    );
    nod.fails(
        &[
            "sales-unit",
            "create",
            "--name",
            "B",
            "--redirect-uri",
            "https://b.example/cb",
            "--ciba-mode",
            "ping",
        ],
        "--ciba-notification-endpoint",
    );
    nod.fails(
        &[
            "sales-unit",
            "create",
            "--name",
            "B",
            "--redirect-uri",
            "https://b.example/cb",
            "--msn",
            "12ab",
        ],
        "serial number",
    );
    nod.fails(
        &[
            "sales-unit",
            "create",
            "--name",
            "B",
            "--redirect-uri",
            "https://b.example/cb",
            "--webhook-url",
            "/hooks",
        ],
        "webhook_url '/hooks' is not an absolute URI",
    );
    let hooked = nod.json(&[
        "sales-unit",
        "create",
        "--name",
        "D",
        "--redirect-uri",
        "https://d.example/cb",
        "--webhook-url",
        "http://127.0.0.1:9000/consent",
    ]);
    assert_eq!(hooked["webhook_url"], "http://127.0.0.1:9000/consent");
    nod.fails(&["sales-unit", "show", "nobody"], "no sales unit");
    nod.fails(&["sales-unit", "delete", "nobody"], "no sales unit");
    // A chosen secret that is long enough is kept as given.
    let chosen = "a-chosen-secret-that-is-long-enough-0123";
    let created = nod.json(&[
        "sales-unit",
        "create",
        "--name",
        "C",
        "--redirect-uri",
        "https://c.example/cb",
        "--client-secret",
        chosen,
    ]);
    assert_eq!(created["client_secret"], chosen);
}

#[test]
fn user_lifecycle() {
    let nod = Nod::new();
    let address = r#"{"street_address":"Karl Johans gate 1","postal_code":"0154","region":"Oslo","country":"NO","address_type":"home"}"#;
    let user = nod.json(&[
        "user",
        "create",
        "--phone-number",
        "+47 480 00 001",
        "--given-name",
        "Kari",
        "--family-name",
        "Nordmann",
        "--email",
        "kari@example.no",
        "--birthdate",
        "1990-05-17",
        "--nin",
        "17059010182",
        "--address",
        address,
    ]);
    assert_eq!(user["phone_number"], "4748000001");
    assert_eq!(user["addresses"][0]["region"], "Oslo");
    assert_eq!(user["email_verified"], true);
    let unverified = nod.json(&[
        "user",
        "create",
        "--phone-number",
        "4748000007",
        "--given-name",
        "Ola",
        "--family-name",
        "Nordmann",
        "--email",
        "ola@example.no",
        "--birthdate",
        "1990-05-17",
        "--email-unverified",
    ]);
    assert_eq!(unverified["email_verified"], false);
    nod.fails(
        &[
            "user",
            "create",
            "--phone-number",
            "4748000001",
            "--given-name",
            "K",
            "--family-name",
            "N",
            "--email",
            "k@example.no",
            "--birthdate",
            "1990-05-17",
        ],
        "exists already",
    );
    nod.fails(
        &[
            "user",
            "create",
            "--phone-number",
            "12",
            "--given-name",
            "K",
            "--family-name",
            "N",
            "--email",
            "k@example.no",
            "--birthdate",
            "1990-05-17",
        ],
        "not a valid mobile number",
    );
    nod.fails(
        &[
            "user",
            "create",
            "--phone-number",
            "4748000002",
            "--given-name",
            "K",
            "--family-name",
            "N",
            "--email",
            "k@example.no",
            "--birthdate",
            "17.05.1990",
        ],
        "YYYY-MM-DD",
    );
    // The NIN must fit the first address's country and the birthdate.
    nod.fails(
        &[
            "user",
            "create",
            "--phone-number",
            "4748000002",
            "--given-name",
            "K",
            "--family-name",
            "N",
            "--email",
            "k@example.no",
            "--birthdate",
            "1990-05-18",
            "--nin",
            "17059010182",
            "--address",
            address,
        ],
        "nin is not a valid national identity number for country NO",
    );

    let file = nod.dir.path().join("users.json");
    let users: Vec<Value> = nod_core::demo::demo_users()
        .iter()
        .map(|u| serde_json::to_value(u).unwrap())
        .collect();
    std::fs::write(&file, serde_json::to_string(&users).unwrap()).unwrap();
    let imported = nod.json(&["user", "import", file.to_str().unwrap()]);
    assert_eq!(imported["created"], users.len());
    let again = nod.json(&["user", "import", file.to_str().unwrap()]);
    assert_eq!(again["created"], 0, "importing twice creates nobody twice");
    assert_eq!(again["skipped"], users.len());
    std::fs::write(&file, "[{\"phone_number\": 1}]").unwrap();
    nod.fails(&["user", "import", file.to_str().unwrap()], "parsing");
    // A bad record is named by its index and field, and nothing is imported.
    let mut bad = users.clone();
    bad[1]["phone_number"] = Value::from("4700000000");
    std::fs::write(&file, serde_json::to_string(&bad).unwrap()).unwrap();
    let out = nod.run(&["user", "import", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("user at index 1"), "{stderr}");
    assert!(stderr.contains("phone_number"), "{stderr}");

    let listed = nod.json(&["user", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), users.len() + 2);
    let activation = nod.json(&["user", "activation-code", "+4748000001", "--minutes", "30"]);
    let code = activation["activation_code"].as_str().unwrap();
    assert_eq!(code.len(), 14);
    assert!(nod_core::crypto::normalize_activation_code(code).is_some());
    nod.fails(&["user", "activation-code", "+4748000009"], "no user");
    nod.fails(
        &["user", "activation-code", "+4748000001", "--minutes", "0"],
        "minutes",
    );
    let shown = nod.json(&["user", "show", "+4748000001"]);
    assert_eq!(shown["given_name"], "Kari");
    let by_id = nod.json(&["user", "show", shown["id"].as_str().unwrap()]);
    assert_eq!(by_id["phone_number"], "4748000001");
    nod.json(&["user", "delete", "4748000001"]);
    nod.fails(&["user", "show", "4748000001"], "no user");
}

#[test]
fn migrate_and_config_file() {
    let nod = Nod::new();
    assert_eq!(nod.json(&["migrate"])["migrated"], true);
    let config = nod.dir.path().join("nod.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:9999\"\nbogus = 1\n").unwrap();
    nod.fails(
        &["--config", config.to_str().unwrap(), "migrate"],
        "unknown field",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_nod"))
        .args(["migrate"])
        .env("NOD_DATABASE_URL", "mysql://x")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown database URL"));
}

/// One setting, the database URL, from each layer in turn: a flag beats `NOD_DATABASE_URL`,
/// which beats the file, which beats the default. `migrate` names the database it used.
#[test]
fn flag_beats_variable_beats_file_beats_default() {
    let nod = Nod::new();
    let dir = nod.dir.path();
    let url = |name: &str| format!("sqlite://{}", dir.join(name).display());
    let config = dir.join("nod.toml");
    std::fs::write(&config, format!("database_url = \"{}\"\n", url("file.db"))).unwrap();
    let migrate = |flag: Option<&str>, variable: Option<&str>, file: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_nod"));
        command
            .current_dir(dir)
            .env_remove("NOD_DATABASE_URL")
            .env_remove("NOD_CONFIG");
        if let Some(variable) = variable {
            command.env("NOD_DATABASE_URL", variable);
        }
        if file {
            command.arg("--config").arg(&config);
        }
        if let Some(flag) = flag {
            command.args(["--database", flag]);
        }
        let out = command.arg("migrate").output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let used = |name: &str| format!("Database is up to date: {name}");
    assert_eq!(migrate(None, None, false), used("sqlite://nod.db"));
    assert!(
        dir.join("nod.db").exists(),
        "the default is relative to the current directory"
    );
    assert_eq!(migrate(None, None, true), used(&url("file.db")));
    assert_eq!(
        migrate(None, Some(&url("variable.db")), true),
        used(&url("variable.db"))
    );
    assert_eq!(
        migrate(Some(&url("flag.db")), Some(&url("variable.db")), true),
        used(&url("flag.db"))
    );
}

#[test]
fn partner_lifecycle() {
    let nod = Nod::new();
    assert_eq!(nod.json(&["partner", "list"]), serde_json::json!([]));
    let created = nod.json(&[
        "partner",
        "create",
        "--name",
        "Acme Integrations",
        "--msn",
        "654321",
        "--msn",
        "123456",
        "--msn",
        "654321",
    ]);
    let client_id = created["client_id"].as_str().unwrap().to_owned();
    assert_eq!(
        created["client_secret"].as_str().unwrap().len(),
        43,
        "256 random bits, base64url"
    );
    assert_eq!(created["msns"], serde_json::json!(["123456", "654321"]));

    let chosen = nod.json(&[
        "partner",
        "create",
        "--name",
        "Beta",
        "--msn",
        "111",
        "--client-id",
        "beta-partner",
        "--client-secret",
        "beta-secret-0123456789-0123456789-abcdef",
    ]);
    assert_eq!(chosen["client_id"], "beta-partner");
    assert_eq!(
        chosen["client_secret"],
        "beta-secret-0123456789-0123456789-abcdef"
    );

    let listed = nod.json(&["partner", "list"]);
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed.iter().all(|p| p.get("client_secret").is_none()),
        "the secret is shown only once"
    );
    let text = nod.run(&["partner", "list"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("beta-partner") && text.contains("123456 654321"),
        "{text}"
    );

    assert_eq!(
        nod.json(&["partner", "delete", "beta-partner"]),
        serde_json::json!({ "deleted": "beta-partner" })
    );
    nod.fails(
        &["partner", "delete", "beta-partner"],
        "no partner 'beta-partner'",
    );
    let listed = nod.json(&["partner", "list"]);
    assert_eq!(listed[0]["client_id"], client_id.as_str());
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

#[test]
fn partner_bad_input() {
    let nod = Nod::new();
    nod.json(&[
        "sales-unit",
        "create",
        "--name",
        "A",
        "--redirect-uri",
        "https://a.example/cb",
        "--client-id",
        "shop-a",
    ]);
    nod.fails(&["partner", "create", "--name", "P"], "--msn");
    nod.fails(
        &["partner", "create", "--name", "P", "--msn", "12ab"],
        "merchant serial number '12ab' is not 1 to 20 digits",
    );
    nod.fails(
        &[
            "partner",
            "create",
            "--name",
            "P",
            "--msn",
            "1",
            "--client-id",
            "a b",
        ],
        "a partner id has 1 to 100 characters",
    );
    nod.fails(
        &[
            "partner",
            "create",
            "--name",
            "P",
            "--msn",
            "1",
            "--client-secret",
            "short",
        ],
        "at least 32 characters",
    );
    nod.fails(
        &[
            "partner",
            "create",
            "--name",
            "P",
            "--msn",
            "1",
            "--client-id",
            "shop-a",
        ],
        "a sales unit has client id 'shop-a'",
    );
    nod.json(&[
        "partner",
        "create",
        "--name",
        "P",
        "--msn",
        "1",
        "--client-id",
        "p",
    ]);
    nod.fails(
        &[
            "partner",
            "create",
            "--name",
            "Q",
            "--msn",
            "2",
            "--client-id",
            "p",
        ],
        "a partner with client id 'p' exists already",
    );
}

#[test]
fn generated_users_are_stored_once_by_number() {
    let nod = Nod::new();
    nod.json(&[
        "sales-unit",
        "create",
        "--name",
        "Shop",
        "--client-id",
        "shop",
        "--redirect-uri",
        "https://shop.example/cb",
    ]);
    let out = nod.json(&["user", "generate", "--count", "3", "--start", "10"]);
    assert_eq!(out["created"], 3);
    let user = nod.json(&["user", "show", "+47 40000011"]);
    assert_eq!(user["phone_number"], "4740000011");
    assert_eq!(user["active"], true);
    // Again: the same numbers are skipped, the next ones are new.
    let out = nod.json(&["user", "generate", "--count", "4", "--start", "10"]);
    assert_eq!(out["created"], 1);
    assert!(nod.run(&["user", "show", "4740000013"]).status.success());
    assert!(!nod.run(&["user", "show", "4740000014"]).status.success());
    nod.fails(
        &["user", "generate", "--count", "2", "--start", "9999999"],
        "at most 10000000",
    );
    nod.fails(&["user", "generate", "--count", "0"], "--count");
}

#[test]
fn an_import_that_stopped_midway_resumes() {
    let nod = Nod::new();
    let file = nod.dir.path().join("many.json");
    let users: Vec<Value> = (0..2_500u64)
        .map(|i| {
            serde_json::json!({
                "phone_number": format!("{}", 4_741_000_000 + i),
                "given_name": "Many",
                "family_name": format!("Person {i}"),
                "email": format!("many.{i}@example.no"),
                "birthdate": "1990-01-01",
                "nin": "",
                "addresses": []
            })
        })
        .collect();
    // The first 1,200 are there already, as after an import that stopped midway.
    std::fs::write(&file, serde_json::to_string(&users[..1_200]).unwrap()).unwrap();
    assert_eq!(
        nod.json(&["user", "import", file.to_str().unwrap()])["created"],
        1_200
    );
    std::fs::write(&file, serde_json::to_string(&users).unwrap()).unwrap();
    let imported = nod.json(&["user", "import", file.to_str().unwrap()]);
    assert_eq!(imported["created"], 1_300);
    assert_eq!(imported["skipped"], 1_200);
    let listed = nod.json(&["user", "list", "--limit", "10000"]);
    assert_eq!(listed.as_array().unwrap().len(), 2_500);
}

#[test]
fn a_users_apps_are_listed_and_logged_out() {
    let nod = Nod::new();
    let user = nod.json(&[
        "user",
        "create",
        "--phone-number",
        "+47 480 00 002",
        "--given-name",
        "Ola",
        "--family-name",
        "Nordmann",
        "--email",
        "ola@example.no",
        "--birthdate",
        "1985-01-01",
    ]);
    let user_id: uuid::Uuid = user["id"].as_str().unwrap().parse().unwrap();
    let no_apps = nod.run(&["user", "devices", "4748000002"]);
    assert!(String::from_utf8_lossy(&no_apps.stdout).contains("has no registered app"));

    // Two apps, as the app API registers them.
    let database = format!("sqlite://{}", nod.dir.path().join("nod.db").display());
    let now = nod_server::Clock::now(&nod_server::SystemClock);
    let ids = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = nod_store::connect(&database).await.unwrap();
        let mut ids = Vec::new();
        for (i, name) in [(0, Some("Ola's phone")), (1, None)] {
            let device = nod_core::login::Device {
                id: uuid::Uuid::new_v4(),
                user_id,
                name: name.map(str::to_owned),
                created_at: now - 100 + i,
                last_used_at: now - 100 + i,
                expires_at: now + 3600,
            };
            store.create_device(&device, &[i as u8]).await.unwrap();
            ids.push(device.id.to_string());
        }
        ids
    });

    let listed = nod.json(&["user", "devices", "+47 480 00 002"]);
    let devices = listed["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2);
    assert_eq!(devices[0]["id"], ids[1].as_str(), "newest first");
    assert_eq!(devices[1]["name"], "Ola's phone");
    let text = String::from_utf8_lossy(&nod.run(&["user", "devices", &user_id.to_string()]).stdout)
        .into_owned();
    assert!(text.contains(&ids[0]) && text.contains("Ola's phone") && text.contains("(no name)"));

    let revoked = nod.json(&["user", "revoke-device", "4748000002", &ids[0]]);
    assert_eq!(revoked["revoked"], ids[0].as_str());
    nod.fails(
        &["user", "revoke-device", "4748000002", &ids[0]],
        "has no device",
    );
    nod.fails(
        &["user", "revoke-device", "4748000002", "nonsense"],
        "invalid",
    );
    nod.fails(&["user", "revoke-device", "4799999999", &ids[1]], "no user");
    let left = nod.json(&["user", "devices", "4748000002"]);
    assert_eq!(left["devices"].as_array().unwrap().len(), 1);
    assert_eq!(left["devices"][0]["id"], ids[1].as_str());
}

/// The keys of `nod keys list --json`: (alg, status) each, by activation.
fn key_statuses(nod: &Nod) -> Vec<(String, String)> {
    nod.json(&["keys", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["alg"].as_str().unwrap().to_owned(),
                k["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pair(alg: &str, status: &str) -> (String, String) {
    (alg.to_owned(), status.to_owned())
}

#[test]
fn keys_rotate_publishes_before_signing_and_retires_after_the_tokens() {
    let nod = Nod::new();
    assert_eq!(nod.json(&["keys", "list"]), serde_json::json!([]));
    let text = nod.run(&["keys", "list"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("No signing keys"));

    // The first key of a database signs at once.
    let first = nod.json(&["keys", "rotate"]);
    assert_eq!(first["alg"], "RS256");
    assert!(first["kid"].as_str().unwrap().starts_with("public:"));
    assert_eq!(key_statuses(&nod), [pair("RS256", "signing")]);

    let second = nod.json(&[
        "keys",
        "rotate",
        "--alg",
        "ES256",
        "--publish-before",
        "600",
    ]);
    assert_eq!(second["alg"], "ES256");
    let active_from = second["active_from"].as_i64().unwrap();
    // The ID token lifetime (3600 s by default) and five minutes after it signs.
    assert_eq!(
        second["replaced_keys_published_until"].as_i64().unwrap(),
        active_from + 3600 + 300
    );
    let listed = nod.json(&["keys", "list"]);
    assert_eq!(listed[0]["kid"], first["kid"]);
    assert_eq!(listed[0]["status"], "signing");
    assert_eq!(
        listed[0]["published_until"].as_i64().unwrap(),
        active_from + 3900
    );
    assert_eq!(listed[1]["kid"], second["kid"]);
    assert_eq!(listed[1]["status"], "next");
    assert_eq!(listed[1]["published_until"], Value::Null);
    // Published 600 s before it signs (created a second later when the rotation before
    // was in the same second).
    let published_for =
        listed[1]["active_from"].as_i64().unwrap() - listed[1]["created_at"].as_i64().unwrap();
    assert!((599..=600).contains(&published_for), "{published_for}");

    // A rotation that signs at once, with a shorter lifetime set in the environment:
    // the pending ES256 key never signs; the RS256 key is replaced now.
    let out = Command::new(env!("CARGO_BIN_EXE_nod"))
        .args([
            "--database",
            &format!("sqlite://{}", nod.dir.path().join("nod.db").display()),
            "keys",
            "rotate",
            "--alg",
            "EdDSA",
            "--json",
        ])
        .env("NOD_KEY_PUBLISH_BEFORE", "0")
        .env("NOD_ID_TOKEN_LIFETIME", "60")
        .env_remove("NOD_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let third: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        third["replaced_keys_published_until"].as_i64().unwrap(),
        third["active_from"].as_i64().unwrap() + 60 + 300
    );
    let statuses = key_statuses(&nod);
    assert_eq!(statuses.len(), 3);
    assert!(statuses.contains(&pair("EdDSA", "signing")), "{statuses:?}");
    assert!(
        statuses.contains(&pair("RS256", "retiring")),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&pair("ES256", "retiring")),
        "{statuses:?}"
    );

    let text = nod.run(&["keys", "list"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("EdDSA") && text.contains("signing"), "{text}");
    // Each rotation is in the audit log.
    let audit = nod.json(&["audit", "list"]);
    let rotated: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "key_rotated")
        .map(|e| e["detail"].as_str().unwrap())
        .collect();
    assert_eq!(rotated.len(), 3);
    assert!(rotated[0].ends_with("EdDSA"), "newest first: {rotated:?}");
}

#[test]
fn keys_rotate_bad_input() {
    let nod = Nod::new();
    nod.fails(
        &["keys", "rotate", "--alg", "HS256"],
        "invalid value 'HS256'",
    );
    nod.fails(
        &["keys", "rotate", "--alg", "rs256"],
        "invalid value 'rs256'",
    );
    nod.fails(
        &["keys", "rotate", "--publish-before=-5"],
        "cannot be negative",
    );
    nod.fails(
        &["keys", "rotate", "--publish-before", "soon"],
        "invalid value",
    );
    assert_eq!(nod.json(&["keys", "list"]), serde_json::json!([]));
}

#[test]
fn audit_list_shows_what_nod_changed_newest_first() {
    let nod = Nod::new();
    assert_eq!(nod.json(&["audit", "list"]), serde_json::json!([]));
    nod.json(&[
        "sales-unit",
        "create",
        "--name",
        "Coffee Shop",
        "--client-id",
        "coffee",
        "--redirect-uri",
        "https://coffee.example/cb",
    ]);
    nod.json(&[
        "sales-unit",
        "update",
        "coffee",
        "--name",
        "Coffee Bar",
        "--rotate-secret",
    ]);
    nod.json(&["sales-unit", "delete", "coffee"]);
    nod.json(&[
        "partner",
        "create",
        "--name",
        "Acme",
        "--client-id",
        "acme",
        "--msn",
        "654321",
    ]);
    nod.json(&["partner", "delete", "acme"]);
    // A refused change writes nothing.
    nod.fails(&["sales-unit", "delete", "coffee"], "no sales unit");

    let entries = nod.json(&["audit", "list"]);
    let entries = entries.as_array().unwrap();
    let seen: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap(),
                e["client_id"].as_str().unwrap_or("-"),
                e["detail"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("partner_deleted", "-", "acme"),
            ("partner_created", "-", "acme msns=654321"),
            ("sales_unit_deleted", "coffee", ""),
            ("sales_unit_updated", "coffee", "name client_secret"),
            ("sales_unit_created", "coffee", ""),
        ]
    );
    assert!(entries.iter().all(|e| e["user_id"].is_null()));
    let at = entries[0]["at"].as_i64().unwrap();

    assert_eq!(
        nod.json(&["audit", "list", "--limit", "2"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        nod.json(&["audit", "list", "--since", "1h"])
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(
        nod.json(&["audit", "list", "--since", &(at + 3600).to_string()]),
        serde_json::json!([])
    );
    assert_eq!(
        nod.json(&["audit", "list", "--since", "2000-01-01T00:00:00Z"])
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let text = nod.run(&["audit", "list"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("sales_unit_updated") && text.contains("coffee"),
        "{text}"
    );
    assert!(
        text.contains('T') && text.contains('Z'),
        "times in UTC: {text}"
    );
}

#[test]
fn audit_list_by_user_and_bad_input() {
    let nod = Nod::new();
    let mut ids = Vec::new();
    for phone in ["+4791234567", "+4791234568"] {
        let user = nod.json(&[
            "user",
            "create",
            "--phone-number",
            phone,
            "--given-name",
            "Kari",
            "--family-name",
            "Nordmann",
            "--email",
            "kari@example.com",
            "--birthdate",
            "1990-01-01",
        ]);
        ids.push(user["id"].as_str().unwrap().to_owned());
    }
    nod.json(&[
        "sales-unit",
        "create",
        "--name",
        "S",
        "--redirect-uri",
        "https://s.example/cb",
    ]);
    nod.json(&["user", "delete", "+4791234567"]);

    // The deleted user, by id (the log outlives the users it names).
    let entries = nod.json(&["audit", "list", "--user", &ids[0]]);
    assert_eq!(entries.as_array().unwrap().len(), 1);
    assert_eq!(entries[0]["event"], "user_deleted");
    assert_eq!(entries[0]["user_id"], ids[0].as_str());
    // The other, by id or number: nothing names them.
    assert_eq!(
        nod.json(&["audit", "list", "--user", &ids[1]]),
        serde_json::json!([])
    );
    assert_eq!(
        nod.json(&["audit", "list", "--user", "4791234568"]),
        serde_json::json!([])
    );
    // A number no user has is an error (the deleted user's too: give the id).
    nod.fails(&["audit", "list", "--user", "+4791234567"], "no user");
    nod.fails(&["audit", "list", "--user", "nobody"], "no user");
    nod.fails(&["audit", "list", "--since", "yesterday"], "--since");
    nod.fails(&["audit", "list", "--limit", "0"], "--limit");
    assert_eq!(nod.json(&["audit", "list"]).as_array().unwrap().len(), 2);
}
