//! Settings: command-line flags, then `NOD_*` environment variables (clap reads both),
//! then the TOML file given with `--config`, then the defaults documented in
//! `docs/configuration.md`.

use std::path::Path;

use anyhow::Context;
use nod_server::ServerConfig;
use serde::Deserialize;

use crate::cli::{GlobalArgs, LogFormat, ServeArgs};

/// The TOML file. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub public_url: Option<String>,
    pub database_url: Option<String>,
    pub log_format: Option<LogFormat>,
    pub code_lifetime: Option<i64>,
    pub access_token_lifetime: Option<i64>,
    pub id_token_lifetime: Option<i64>,
    pub login_request_lifetime: Option<i64>,
    pub remember_days: Option<i64>,
    pub max_pending_per_user: Option<usize>,
    pub phone_form_per_ip_per_minute: Option<u32>,
    pub deep_link_template: Option<String>,
}

/// Settings every subcommand shares, resolved.
pub struct Settings {
    pub listen: String,
    pub public_url: String,
    pub database_url: String,
    pub log_format: LogFormat,
    pub json: bool,
    pub file: FileConfig,
}

impl Settings {
    pub fn load(args: &GlobalArgs) -> anyhow::Result<Settings> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        Ok(Settings {
            listen: args
                .listen
                .clone()
                .or_else(|| file.listen.clone())
                .unwrap_or_else(|| "127.0.0.1:8080".into()),
            public_url: args
                .public_url
                .clone()
                .or_else(|| file.public_url.clone())
                .unwrap_or_else(|| "http://localhost:8080".into()),
            database_url: args
                .database
                .clone()
                .or_else(|| file.database_url.clone())
                .unwrap_or_else(|| "sqlite://nod.db".into()),
            log_format: args
                .log_format
                .or(file.log_format)
                .unwrap_or(LogFormat::Text),
            json: args.json,
            file,
        })
    }

    /// The server's configuration: flags and variables over the file over defaults.
    pub fn server_config(&self, args: &ServeArgs) -> anyhow::Result<ServerConfig> {
        let defaults = ServerConfig::default();
        let url = url_check(&self.public_url)?;
        let config = ServerConfig {
            public_url: url,
            test_mode: args.demo,
            code_lifetime: args
                .code_lifetime
                .or(self.file.code_lifetime)
                .unwrap_or(defaults.code_lifetime),
            access_token_lifetime: args
                .access_token_lifetime
                .or(self.file.access_token_lifetime)
                .unwrap_or(defaults.access_token_lifetime),
            id_token_lifetime: args
                .id_token_lifetime
                .or(self.file.id_token_lifetime)
                .unwrap_or(defaults.id_token_lifetime),
            login_request_lifetime: args
                .login_request_lifetime
                .or(self.file.login_request_lifetime)
                .unwrap_or(defaults.login_request_lifetime),
            remember_days: args
                .remember_days
                .or(self.file.remember_days)
                .unwrap_or(defaults.remember_days),
            max_pending_per_user: args
                .max_pending_per_user
                .or(self.file.max_pending_per_user)
                .unwrap_or(defaults.max_pending_per_user),
            phone_form_per_ip_per_minute: args
                .phone_form_per_ip_per_minute
                .or(self.file.phone_form_per_ip_per_minute)
                .unwrap_or(defaults.phone_form_per_ip_per_minute),
            deep_link_template: args
                .deep_link_template
                .clone()
                .or_else(|| self.file.deep_link_template.clone()),
        };
        for (name, value) in [
            ("code lifetime", config.code_lifetime),
            ("access token lifetime", config.access_token_lifetime),
            ("ID token lifetime", config.id_token_lifetime),
            ("login request lifetime", config.login_request_lifetime),
            ("remember days", config.remember_days),
        ] {
            anyhow::ensure!(value > 0, "the {name} must be positive");
        }
        Ok(config)
    }
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

fn url_check(url: &str) -> anyhow::Result<String> {
    let parsed =
        url::Url::parse(url).with_context(|| format!("public URL '{url}' is not a URL"))?;
    anyhow::ensure!(
        matches!(parsed.scheme(), "http" | "https"),
        "the public URL must be http:// or https://"
    );
    Ok(url.trim_end_matches('/').to_owned())
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
