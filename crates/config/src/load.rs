//! Layering defaults < TOML file < environment < flags with figment, and collecting every
//! problem instead of stopping at the first.

use std::collections::BTreeSet;
use std::path::Path;

use figment::error::Kind;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider, Source};
use serde::de::DeserializeOwned;

use crate::flags::{ConfigFlags, FlagsProvider};
use crate::{Config, ConfigErrors, SECTIONS};

/// Prefix of the configuration environment variables.
pub(crate) const ENV_PREFIX: &str = "STREAMHOUSE_";
/// Separator between section and key (and map key) in environment variable names.
const ENV_SEPARATOR: &str = "__";
const DEFAULTS_NAME: &str = "defaults";

impl Config {
    /// Loads the configuration: defaults < TOML `file` < `STREAMHOUSE_<SECTION>__<KEY>`
    /// environment variables < `flags`, then [`validate`](Config::validate)s it.
    ///
    /// `file` is usually `flags.config.as_deref()` (`--config` or `STREAMHOUSE_CONFIG`);
    /// when it is `None`, `flags.config` is used. A file that is named but missing is an
    /// error. Environment variables starting with `STREAMHOUSE_` are read only when the
    /// part before the first `__` is a section name, so `STREAMHOUSE_CONFIG` and e.g.
    /// `STREAMHOUSE_TEST_*` are ignored; `STREAMHOUSE_<SECTION>_<KEY>` with a single `_`
    /// is reported as a mistake rather than silently ignored.
    ///
    /// # Errors
    ///
    /// Every problem found: unparsable values in any section, unknown keys and sections,
    /// a missing or malformed file, and failed validation rules — one entry each, naming
    /// the key and where its value came from.
    pub fn load(file: Option<&Path>, flags: &ConfigFlags) -> Result<Config, ConfigErrors> {
        let mut errors = Vec::new();
        let file = file.or(flags.config.as_deref());

        let defaults = layer(
            Metadata::named(DEFAULTS_NAME),
            Serialized::defaults(Config::default()).data(),
        );
        let env = layer(
            Metadata::named("environment variable").interpolater(|_: &Profile, keys: &[&str]| {
                format!(
                    "{ENV_PREFIX}{}",
                    keys.join(ENV_SEPARATOR).to_ascii_uppercase()
                )
            }),
            env_provider().data(),
        );
        errors.extend(env_naming_mistakes());
        let (flag_dict, flag_problems) = flags.to_dict();
        errors.extend(flag_problems);

        let build = |with_file: bool| {
            let mut figment = Figment::from(defaults.clone());
            if let (true, Some(path)) = (with_file, file) {
                figment = figment.merge(Toml::file_exact(path));
            }
            figment
                .merge(env.clone())
                .merge(FlagsProvider(flag_dict.clone()))
        };

        let mut file_ok = true;
        if let Some(path) = file
            && !path.is_file()
        {
            file_ok = false;
            errors.push(format!(
                "config file {}: not found (given by --config or STREAMHOUSE_CONFIG)",
                path.display()
            ));
        }
        let mut figment = build(file_ok);
        let root = match figment.extract::<Dict>() {
            Ok(root) => root,
            Err(error) if let (true, Some(path)) = (file_ok, file) => {
                // The file is malformed: say so, and still check everything else.
                file_ok = false;
                errors.extend(
                    error
                        .into_iter()
                        .map(|e| format!("config file {}: {}", path.display(), one_line(&e.kind))),
                );
                figment = build(false);
                figment.extract::<Dict>().map_err(|error| {
                    errors.extend(error.into_iter().map(|e| e.to_string()));
                    ConfigErrors(errors.clone())
                })?
            }
            Err(error) => {
                errors.extend(error.into_iter().map(|e| e.to_string()));
                return Err(ConfigErrors(errors));
            }
        };

        let mut sections = Sections {
            figment: &figment,
            root: &root,
            errors: Vec::new(),
            failed: BTreeSet::new(),
        };
        let config = Config {
            node: sections.extract("node"),
            object_store: sections.extract("object_store"),
            metadata: sections.extract("metadata"),
            engine: sections.extract("engine"),
            kafka: sections.extract("kafka"),
            groups: sections.extract("groups"),
            http: sections.extract("http"),
            log: sections.extract("log"),
        };
        errors.append(&mut sections.errors);
        for key in root.keys() {
            if !SECTIONS.contains(&key.as_str()) {
                errors.push(format!(
                    "{key}: unknown section{}; expected one of {}",
                    source(figment.find_metadata(key), &[key.as_str()]),
                    SECTIONS.join(", ")
                ));
            }
        }

        // Validation of a config whose file could not be read would blame the wrong
        // values; so would rules about keys that already failed to parse.
        if file_ok {
            for problem in config.problems() {
                if problem.keys.iter().any(|k| sections.failed.contains(*k)) {
                    continue;
                }
                let sources: Vec<String> = problem
                    .keys
                    .iter()
                    .enumerate()
                    .filter_map(|(i, key)| {
                        let path: Vec<&str> = key.split('.').collect();
                        origin(figment.find_metadata(key), &path).map(|o| match i {
                            // The problem is named after its first key.
                            0 => format!("from {o}"),
                            _ => format!("{key} from {o}"),
                        })
                    })
                    .collect();
                let sources = if sources.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", sources.join("; "))
                };
                errors.push(format!("{}{sources}", problem.render()));
            }
        }

        if errors.is_empty() {
            Ok(config)
        } else {
            Err(ConfigErrors(errors))
        }
    }
}

/// A provider with precomputed data and our own metadata (for readable error sources).
#[derive(Clone)]
struct Layer {
    metadata: Metadata,
    data: Result<Map<Profile, Dict>, figment::Error>,
}

fn layer(metadata: Metadata, data: figment::Result<Map<Profile, Dict>>) -> Layer {
    Layer { metadata, data }
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        self.metadata.clone()
    }

    fn data(&self) -> figment::Result<Map<Profile, Dict>> {
        self.data.clone()
    }
}

/// Whether the part of an env var name after the prefix names a section and a key.
fn is_config_env_key(key: &str) -> bool {
    key.split_once(ENV_SEPARATOR)
        .is_some_and(|(section, _)| SECTIONS.iter().any(|s| s.eq_ignore_ascii_case(section)))
}

fn env_provider() -> Env {
    Env::prefixed(ENV_PREFIX)
        .filter(|key| is_config_env_key(key.as_str()))
        .split(ENV_SEPARATOR)
}

/// `STREAMHOUSE_ENGINE_FLUSH_INTERVAL` (single `_`) would be silently ignored; say so.
fn env_naming_mistakes() -> Vec<String> {
    let mut out = Vec::new();
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let Some(prefix) = name.get(..ENV_PREFIX.len()) else {
            continue;
        };
        if !prefix.eq_ignore_ascii_case(ENV_PREFIX) {
            continue;
        }
        let rest = name[ENV_PREFIX.len()..].to_ascii_lowercase();
        if is_config_env_key(&rest) {
            continue;
        }
        for section in SECTIONS {
            if let Some(key) = rest.strip_prefix(&format!("{section}_"))
                && !key.starts_with('_')
                && !key.is_empty()
            {
                out.push(format!(
                    "environment variable {name} is not a config key: separate section and \
                     key with a double underscore, as in {ENV_PREFIX}{}{ENV_SEPARATOR}{}",
                    section.to_ascii_uppercase(),
                    key.to_ascii_uppercase()
                ));
            }
        }
    }
    out.sort();
    out
}

/// Extracts sections one at a time, collecting errors and recording failed keys.
struct Sections<'a> {
    figment: &'a Figment,
    root: &'a Dict,
    errors: Vec<String>,
    /// Dotted keys that failed to parse (and were replaced by their defaults).
    failed: BTreeSet<String>,
}

impl Sections<'_> {
    /// Deserializes `root[name]`. On an error, reports it, removes the offending key (so
    /// its default applies, every section being `#[serde(default)]`) and tries again, so
    /// every bad key of the section is reported, not just the first.
    fn extract<T: DeserializeOwned + Default>(&mut self, name: &str) -> T {
        let Some(mut value) = self.root.get(name).cloned() else {
            return T::default();
        };
        // Each round removes one key, so this bounds the rounds; +2 for slack.
        let max_rounds = count_leaves(&value) + 2;
        for _ in 0..max_rounds {
            if value.as_dict().is_none() {
                self.errors.push(format!(
                    "{name}: expected a table of keys, found {}{}",
                    value.to_actual(),
                    source(self.figment.find_metadata(name), &[name])
                ));
                self.failed.insert(name.to_owned());
                return T::default();
            }
            // Lossy: flags arrive as strings, and "8" must still be a valid u32.
            let result = Figment::from(Serialized::defaults(&value)).extract_lossy::<T>();
            let error = match result {
                Ok(section) => return section,
                Err(error) => error,
            };
            let mut repaired = false;
            for error in error {
                let mut path: Vec<&str> = vec![name];
                path.extend(error.path.iter().map(String::as_str));
                let key = path.join(".");
                self.errors.push(format!(
                    "{key}: {}{}",
                    describe_kind(&error.kind),
                    source(self.figment.find_metadata(&key), &path)
                ));
                self.failed.insert(key);
                repaired |= remove_path(&mut value, &error.path);
            }
            if !repaired {
                break;
            }
        }
        self.failed.insert(name.to_owned());
        T::default()
    }
}

/// A parser message on one line: TOML errors come with a multi-line source snippet.
fn one_line(kind: &Kind) -> String {
    let text = kind.to_string();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| {
            let snippet = line
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .trim_start();
            !line.is_empty() && !snippet.starts_with('|')
        })
        .collect();
    lines.join("; ")
}

fn count_leaves(value: &Value) -> usize {
    match value {
        Value::Dict(_, dict) => dict.values().map(count_leaves).sum::<usize>() + 1,
        _ => 1,
    }
}

/// Removes the value at `path` (relative to `value`); false if there was nothing to remove.
fn remove_path(value: &mut Value, path: &[String]) -> bool {
    match (value, path) {
        (Value::Dict(_, dict), [last]) => dict.remove(last).is_some(),
        (Value::Dict(_, dict), [first, rest @ ..]) => dict
            .get_mut(first)
            .is_some_and(|inner| remove_path(inner, rest)),
        _ => false,
    }
}

fn describe_kind(kind: &Kind) -> String {
    match kind {
        Kind::UnknownField(_, expected) => {
            format!("unknown key; expected one of {}", expected.join(", "))
        }
        Kind::UnknownVariant(found, expected) => {
            format!(
                "unknown value {found:?}; expected one of {}",
                expected.join(", ")
            )
        }
        other => other.to_string(),
    }
}

/// ` (from <origin>)`, or nothing for defaults and unknowns.
fn source(metadata: Option<&Metadata>, path: &[&str]) -> String {
    origin(metadata, path).map_or_else(String::new, |o| format!(" (from {o})"))
}

/// Where a value came from: "TOML file /x.toml", "environment variable STREAMHOUSE_A__B",
/// "command-line flag --a-b"; `None` for defaults and unknowns.
fn origin(metadata: Option<&Metadata>, path: &[&str]) -> Option<String> {
    let md = metadata?;
    if md.name == DEFAULTS_NAME {
        return None;
    }
    Some(match &md.source {
        Some(Source::File(file)) => format!("{} {}", md.name, file.display()),
        _ => format!("{} {}", md.name, md.interpolate(&Profile::Default, path)),
    })
}

#[cfg(test)]
mod tests;
