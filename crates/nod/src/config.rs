//! Settings: one [`Settings`] struct holds every setting with its default. The TOML file
//! given with `--config` is read as a table of keys; clap reads each flag, or without it
//! its `NOD_*` variable, and the flags and variables it found are laid over the file's
//! keys; keys still missing take their defaults when the table becomes [`Settings`]. So a
//! flag beats its variable, which beats the file, which beats the default, with no merge
//! written per setting. The keys are listed in `docs/configuration.md`.

use std::path::Path;

use anyhow::{Context, bail};
use nod_server::ServerConfig;
use serde::Deserialize;

use crate::cli::{Cli, Command, KeysCommand, LogFormat};

/// Every setting, named by its TOML key.
#[derive(Debug, Deserialize)]
#[serde(default)]
pub(crate) struct Settings {
    /// Address the server listens on. Default `127.0.0.1:8080`.
    pub listen: String,
    /// Database URL. Default `sqlite://nod.db`.
    pub database_url: String,
    /// Log format. Default `text`.
    pub log_format: LogFormat,
    /// The server's settings (public URL, lifetimes, limits, deep link) under their own
    /// keys, with [`ServerConfig`]'s defaults; read from `server_keys`.
    #[serde(skip)]
    pub server: ServerConfig,
    /// Print machine-readable JSON (`--json`; not a setting of the file).
    #[serde(skip)]
    pub json: bool,
    /// The keys not named above, for [`ServerConfig`], which rejects unknown ones.
    #[serde(flatten)]
    server_keys: toml::Table,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite://nod.db".into(),
            log_format: LogFormat::Text,
            server: ServerConfig::default(),
            json: false,
            server_keys: toml::Table::new(),
        }
    }
}

/// Keys of [`ServerConfig`] that the file may not set.
const NOT_IN_FILE: &[&str] = &["test_mode"];

impl Settings {
    /// The settings of one command line: its flags and `NOD_*` variables over the file
    /// over the defaults.
    pub(crate) fn load(cli: &Cli) -> anyhow::Result<Settings> {
        let source = cli.global.config.as_deref();
        let mut keys = match source {
            Some(path) => read_file(path)?,
            None => toml::Table::new(),
        };
        keys.extend(toml::Table::try_from(&cli.global)?);
        match &cli.command {
            Command::Serve(args) => keys.extend(toml::Table::try_from(args)?),
            Command::Keys(KeysCommand::Rotate(args)) => {
                keys.extend(toml::Table::try_from(args)?);
            }
            _ => {}
        }
        let place = || match source {
            Some(path) => format!("in {}", path.display()),
            None => "in the flags".to_owned(),
        };
        let mut settings: Settings = keys
            .try_into()
            .with_context(|| format!("reading the settings {}", place()))?;
        settings.server = std::mem::take(&mut settings.server_keys)
            .try_into()
            .with_context(|| format!("reading the settings {}", place()))?;
        settings.json = cli.global.json;
        Ok(settings)
    }

    /// The server's configuration, checked: the public URL is http(s) without a trailing
    /// slash, and every lifetime is positive.
    pub(crate) fn server_config(&self, test_mode: bool) -> anyhow::Result<ServerConfig> {
        let config = ServerConfig {
            public_url: url_check(&self.server.public_url)?,
            test_mode,
            ..self.server.clone()
        };
        for (name, value) in [
            ("code lifetime", config.code_lifetime),
            ("access token lifetime", config.access_token_lifetime),
            (
                "merchant-initiated access token lifetime",
                config.ciba_access_token_lifetime,
            ),
            (
                "ciba-redirect code lifetime",
                config.ciba_redirect_code_lifetime(),
            ),
            ("merchant token lifetime", config.merchant_token_lifetime),
            ("ID token lifetime", config.id_token_lifetime),
            ("login request lifetime", config.login_request_lifetime),
            ("remember days", config.remember_days),
            ("device idle days", config.device_idle_days),
            ("key reload interval", config.key_reload_interval),
            ("audit retention (days)", config.audit_retention_days),
        ] {
            anyhow::ensure!(value > 0, "the {name} must be positive");
        }
        anyhow::ensure!(
            config.key_publish_before >= 0,
            "the time a key is published before it signs cannot be negative"
        );
        Ok(config)
    }
}

fn read_file(path: &Path) -> anyhow::Result<toml::Table> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let keys: toml::Table =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    if let Some(key) = NOT_IN_FILE.iter().find(|k| keys.contains_key(**k)) {
        bail!(
            "unknown field `{key}` in {}: test mode is `nod serve --demo` or NOD_DEMO",
            path.display()
        );
    }
    Ok(keys)
}

fn url_check(url: &str) -> anyhow::Result<String> {
    let parsed =
        url::Url::parse(url).with_context(|| format!("public URL '{url}' is not a URL"))?;
    anyhow::ensure!(
        matches!(parsed.scheme(), "http" | "https"),
        "the public URL must be http:// or https://"
    );
    anyhow::ensure!(
        parsed.query().is_none() && parsed.fragment().is_none(),
        "the public URL has no query or fragment"
    );
    // As the URL parser writes it: the scheme and host in lower case (`HTTPS://Login.Example`
    // is `https://login.example`, whose cookies are `Secure`), without a trailing slash.
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// A database URL without its password, for messages.
pub(crate) fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// The settings of `nod --config FILE ARGS…`, FILE holding `toml`.
    fn load(toml: &str, args: &[&str]) -> anyhow::Result<Settings> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("nod.toml");
        std::fs::write(&path, toml)?;
        let path = path.to_string_lossy().into_owned();
        let mut line = vec!["nod", "--config", &path];
        line.extend_from_slice(args);
        Settings::load(&Cli::try_parse_from(line)?)
    }

    #[test]
    fn flags_beat_the_file_which_beats_the_defaults() {
        let settings = load(
            "code_lifetime = 30\naccess_token_lifetime = 100\nlog_format = \"json\"\n",
            &["serve", "--code-lifetime", "10"],
        )
        .unwrap();
        assert_eq!(settings.server.code_lifetime, 10, "flag over file");
        assert_eq!(
            settings.server.access_token_lifetime, 100,
            "file over default"
        );
        assert_eq!(settings.log_format, LogFormat::Json);
        let defaults = ServerConfig::default();
        assert_eq!(
            settings.server.id_token_lifetime,
            defaults.id_token_lifetime
        );
        assert_eq!(
            settings.server.deep_link_template,
            defaults.deep_link_template
        );
        assert_eq!(settings.listen, Settings::default().listen);
    }

    #[test]
    fn serve_flags_count_only_for_serve() {
        // `migrate` has no --code-lifetime; the file's value stays.
        let settings = load("code_lifetime = 30\n", &["migrate"]).unwrap();
        assert_eq!(settings.server.code_lifetime, 30);
        assert!(load("", &["migrate", "--code-lifetime", "10"]).is_err());
    }

    #[test]
    fn the_file_may_not_name_an_unknown_key_or_test_mode() {
        let error = load("listen = \"127.0.0.1:1\"\nbogus = 1\n", &["migrate"]).unwrap_err();
        assert!(
            format!("{error:#}").contains("unknown field `bogus`"),
            "{error:#}"
        );
        let error = load("test_mode = true\n", &["migrate"]).unwrap_err();
        assert!(error.to_string().contains("--demo"), "{error}");
    }

    #[test]
    fn a_wrongly_typed_key_names_the_file_and_the_key() {
        let error = load("code_lifetime = \"long\"\n", &["migrate"]).unwrap_err();
        let message = format!("{error:#}");
        assert!(message.contains("nod.toml"), "{message}");
        assert!(message.contains("code_lifetime"), "{message}");
    }

    #[test]
    fn server_config_checks_the_url_and_the_lifetimes() {
        let settings = load("public_url = \"https://login.example/\"\n", &["migrate"]).unwrap();
        let config = settings.server_config(true).unwrap();
        assert_eq!(config.public_url, "https://login.example");
        assert!(config.test_mode);
        let settings = load("public_url = \"HTTPS://Login.Example\"\n", &["migrate"]).unwrap();
        let config = settings.server_config(false).unwrap();
        assert_eq!(config.public_url, "https://login.example");
        assert!(config.secure_cookies());
        let settings = load("public_url = \"ftp://login.example\"\n", &["migrate"]).unwrap();
        assert!(settings.server_config(false).is_err());
        let settings = load(
            "public_url = \"https://login.example/?a=b\"\n",
            &["migrate"],
        )
        .unwrap();
        assert!(settings.server_config(false).is_err());
        let settings = load("remember_days = 0\n", &["migrate"]).unwrap();
        assert!(settings.server_config(false).is_err());
    }
}
