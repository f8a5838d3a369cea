//! Settings declared once per middleware, as a type: [`declare_settings!`](crate::declare_settings)
//! writes the struct (one typed field per setting), the code that reads it, and the list of
//! [`Setting`]s the registry knows and `docs/settings.md` shows.
//!
//! ```
//! use middleware_core::declared::DeclaredSettings;
//! use middleware_core::{declare_settings, Registry, Settings};
//!
//! declare_settings! {
//!     /// The settings `BannerMiddleware` reads.
//!     pub struct BannerSettings {
//!         /// the text of the `X-Banner` header
//!         BANNER_TEXT => text: String = "hello",
//!         /// how many responses carry it; unset: all of them
//!         BANNER_LIMIT => limit: Option<u64> = unset,
//!     }
//! }
//!
//! let mut registry = Registry::new();
//! registry.declare::<BannerSettings>();
//! assert!(registry.known_settings().any(|key| key == "BANNER_TEXT"));
//!
//! let settings = Settings::from_toml_str("BANNER_LIMIT = 3", "settings.toml").unwrap();
//! let banner = BannerSettings::from_settings(&settings).unwrap();
//! assert_eq!((banner.text.as_str(), banner.limit), ("hello", Some(3)));
//!
//! // A wrong type names the setting and the file.
//! let bad = Settings::from_toml_str("BANNER_TEXT = 3", "settings.toml").unwrap();
//! let message = BannerSettings::from_settings(&bad).unwrap_err().to_string();
//! assert!(message.contains("BANNER_TEXT") && message.contains("settings.toml"), "{message}");
//!
//! // The settings reference row, as docs/settings.md has it.
//! let row = BannerSettings::SETTINGS[0].reference_row();
//! assert_eq!(row, r#"| `BANNER_TEXT` | `"hello"` | the text of the `X-Banner` header |"#);
//! ```
//!
//! A default is written as the TOML value it stands for (`0`, `false`, `"DENY"`, `[]`, `{}`),
//! so the default the code uses and the one the reference shows are the same text. `unset`
//! means the type's `Default` (`None` for an `Option`) and is shown as "unset";
//! `unset("the number of cores")` shows that text instead, for a default the middleware works
//! out from other values.
//!
//! Settings that several middleware read (the session cookie's, `LOGIN_URL`) are declared once
//! in their own type, and the others include it under `shared`: its settings are then declared
//! with theirs, and read into the named field.

use serde::de::DeserializeOwned;

use crate::settings::{Setting, Settings, SettingsError};

/// A type whose fields are settings: what [`declare_settings!`](crate::declare_settings)
/// implements.
pub trait DeclaredSettings: Sized {
    /// The settings of this type's own fields, in declaration order.
    const SETTINGS: &'static [Setting];

    /// Appends [`Self::SETTINGS`] and those of the types included under `shared`.
    fn declarations(out: &mut Vec<&'static Setting>) {
        out.extend(Self::SETTINGS);
    }

    /// Reads every field through `reader`.
    fn read(reader: &mut SettingsReader<'_>) -> Result<Self, SettingsError>;

    /// Reads every field; a value of the wrong type is an error that names the setting.
    fn from_settings(settings: &Settings) -> Result<Self, SettingsError> {
        Self::read(&mut SettingsReader::new(settings, false))
    }

    /// Reads every field for the system checks: a value of the wrong type is reported when
    /// the chain is built, so here it reads as the default and is listed in
    /// [`Checked::is_invalid`]; each check then reports only its own concern.
    fn for_checks(settings: &Settings) -> Result<Checked<Self>, SettingsError> {
        let mut reader = SettingsReader::new(settings, true);
        let values = Self::read(&mut reader)?;
        Ok(Checked {
            values,
            invalid: reader.invalid,
        })
    }
}

/// Declared settings read for the checks ([`DeclaredSettings::for_checks`]).
#[derive(Clone, Debug)]
pub struct Checked<T> {
    /// The values; a setting of the wrong type holds its default.
    pub values: T,
    invalid: Vec<&'static str>,
}

impl<T> Checked<T> {
    /// Whether `key` is set to a value of the wrong type.
    pub fn is_invalid(&self, key: &str) -> bool {
        self.invalid.contains(&key)
    }
}

impl<T> std::ops::Deref for Checked<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.values
    }
}

/// Reads the fields of declared settings; used by the code
/// [`declare_settings!`](crate::declare_settings) writes.
#[derive(Debug)]
pub struct SettingsReader<'a> {
    settings: &'a Settings,
    lenient: bool,
    invalid: Vec<&'static str>,
}

impl<'a> SettingsReader<'a> {
    fn new(settings: &'a Settings, lenient: bool) -> Self {
        SettingsReader {
            settings,
            lenient,
            invalid: Vec::new(),
        }
    }

    /// The settings being read.
    pub fn settings(&self) -> &'a Settings {
        self.settings
    }

    /// The value of `key`, or `default()` when it is unset (or, for the checks, of the wrong
    /// type).
    pub fn field<T: DeserializeOwned>(
        &mut self,
        key: &'static str,
        default: impl FnOnce(&Settings) -> Result<T, SettingsError>,
    ) -> Result<T, SettingsError> {
        match self.settings.get::<T>(key) {
            Ok(Some(value)) => Ok(value),
            Ok(None) => default(self.settings),
            Err(_) if self.lenient => {
                self.invalid.push(key);
                default(self.settings)
            }
            Err(e) => Err(e),
        }
    }

    /// Reads declared settings included in others (`shared`), with the same leniency.
    pub fn shared<T: DeclaredSettings>(&mut self) -> Result<T, SettingsError> {
        T::read(self)
    }
}

/// The value of a declared default, written as TOML (`toml` is the default's text).
#[doc(hidden)]
pub fn declared_default<T: DeserializeOwned>(
    settings: &Settings,
    key: &str,
    toml: &str,
) -> Result<T, SettingsError> {
    let invalid = |message: String| {
        settings.invalid(
            key,
            format!("its declared default {toml} does not read: {message}"),
            "correct the default in the middleware's declare_settings!",
        )
    };
    let table: toml::Table = format!("default = {toml}")
        .parse()
        .map_err(|e: toml::de::Error| invalid(e.message().to_owned()))?;
    let value = table
        .get("default")
        .cloned()
        .ok_or_else(|| invalid("no value".to_owned()))?;
    value
        .try_into()
        .map_err(|e: toml::de::Error| invalid(e.message().to_owned()))
}

/// Declares a type whose fields are settings; see [the module](crate::declared).
///
/// Each field is `/// one-line doc` then `DJANGO_NAME => field: Type = DEFAULT`, where
/// `DEFAULT` is a TOML value (a literal, `[...]` or `{...}`), `unset` (the type's `Default`,
/// shown "unset") or `unset("text shown as the default")`. After the fields, an optional
/// `shared { field: OtherSettings }` includes settings declared by another type.
#[macro_export]
macro_rules! declare_settings {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                $key:ident => $field:ident : $ty:ty = $default:tt $(($shown:literal))?
            ),* $(,)?
        }
        $(
            shared {
                $( $(#[doc = $sdoc:literal])* $sfield:ident : $sty:ty ),* $(,)?
            }
        )?
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug)]
        $vis struct $name {
            $(
                #[doc = concat!("`", stringify!($key), "`:")]
                $(#[doc = $doc])*
                #[doc = ""]
                #[doc = "Default:"]
                #[doc = $crate::__declared_shown!($default $(($shown))?)]
                pub $field: $ty,
            )*
            $($(
                $(#[doc = $sdoc])*
                pub $sfield: $sty,
            )*)?
        }

        impl $crate::declared::DeclaredSettings for $name {
            const SETTINGS: &'static [$crate::settings::Setting] = &[
                $(
                    $crate::settings::Setting {
                        name: stringify!($key),
                        rust_type: stringify!($ty),
                        default: $crate::__declared_shown!($default $(($shown))?),
                        doc: concat!($($doc),*),
                    },
                )*
            ];

            fn declarations(out: &mut ::std::vec::Vec<&'static $crate::settings::Setting>) {
                out.extend(Self::SETTINGS);
                $($(
                    <$sty as $crate::declared::DeclaredSettings>::declarations(out);
                )*)?
            }

            fn read(
                reader: &mut $crate::declared::SettingsReader<'_>,
            ) -> ::std::result::Result<Self, $crate::SettingsError> {
                ::std::result::Result::Ok($name {
                    $(
                        $field: reader.field::<$ty>(stringify!($key), |_settings| {
                            $crate::__declared_default!(_settings, $key, $default)
                        })?,
                    )*
                    $($(
                        $sfield: reader.shared::<$sty>()?,
                    )*)?
                })
            }
        }

        impl $name {
            /// Reads these settings; a value of the wrong type is an error that names the
            /// setting.
            #[allow(dead_code)]
            $vis fn from_settings(
                settings: &$crate::Settings,
            ) -> ::std::result::Result<Self, $crate::SettingsError> {
                <Self as $crate::declared::DeclaredSettings>::from_settings(settings)
            }

            /// Reads these settings for the system checks: a value of the wrong type reads as
            /// its default (it is reported when the chain is built).
            #[allow(dead_code)]
            $vis fn for_checks(
                settings: &$crate::Settings,
            ) -> ::std::result::Result<
                $crate::declared::Checked<Self>,
                $crate::SettingsError,
            > {
                <Self as $crate::declared::DeclaredSettings>::for_checks(settings)
            }
        }
    };
}

/// The default of a declared setting as the reference shows it.
#[doc(hidden)]
#[macro_export]
macro_rules! __declared_shown {
    (unset) => {
        "unset"
    };
    (unset($shown:literal)) => {
        $shown
    };
    ($default:tt) => {
        concat!("`", stringify!($default), "`")
    };
}

/// The value of a declared default.
#[doc(hidden)]
#[macro_export]
macro_rules! __declared_default {
    ($settings:ident, $key:ident, unset) => {
        ::std::result::Result::Ok(::std::default::Default::default())
    };
    ($settings:ident, $key:ident, $default:tt) => {
        $crate::declared::declared_default($settings, stringify!($key), stringify!($default))
    };
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    crate::declare_settings! {
        /// Shared by the others.
        pub struct Shared {
            /// the shared one
            SHARED_NAME => name: String = "shared",
        }
    }

    crate::declare_settings! {
        /// A test group.
        pub struct Group {
            /// a number
            GROUP_COUNT => count: u64 = 7,
            /// a list, empty by default
            GROUP_LIST => list: Vec<String> = [],
            ///
            GROUP_MAYBE => maybe: Option<bool> = unset("worked out at start-up"),
        }
        shared {
            /// The shared settings.
            shared: Shared,
        }
    }

    #[test]
    fn defaults_come_from_the_declaration() {
        let g = Group::from_settings(&Settings::default()).unwrap();
        assert_eq!(g.count, 7);
        assert!(g.list.is_empty());
        assert_eq!(g.maybe, None);
        assert_eq!(g.shared.name, "shared");
    }

    #[test]
    fn values_and_shared_settings_are_read() {
        let s = Settings::from_toml_str(
            "GROUP_COUNT = 3\nGROUP_MAYBE = true\nSHARED_NAME = \"x\"",
            "t",
        )
        .unwrap();
        let g = Group::from_settings(&s).unwrap();
        assert_eq!(
            (g.count, g.maybe, g.shared.name.as_str()),
            (3, Some(true), "x")
        );
    }

    #[test]
    fn declarations_include_the_shared_ones_once() {
        let mut out = Vec::new();
        Group::declarations(&mut out);
        let names: Vec<&str> = out.iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            ["GROUP_COUNT", "GROUP_LIST", "GROUP_MAYBE", "SHARED_NAME"]
        );
        assert_eq!(Group::SETTINGS[0].rust_type, "u64");
    }

    #[test]
    fn reference_rows_show_the_default_and_the_doc() {
        let rows: Vec<String> = Group::SETTINGS.iter().map(Setting::reference_row).collect();
        assert_eq!(
            rows,
            [
                "| `GROUP_COUNT` | `7` | a number |",
                "| `GROUP_LIST` | `[]` | a list, empty by default |",
                "| `GROUP_MAYBE` | worked out at start-up | |",
            ]
        );
    }

    #[test]
    fn wrong_type_is_an_error_naming_the_setting_but_reads_as_default_for_checks() {
        let s = Settings::from_toml_str("GROUP_COUNT = \"many\"", "site.toml").unwrap();
        let msg = Group::from_settings(&s).unwrap_err().to_string();
        assert!(
            msg.contains("GROUP_COUNT") && msg.contains("site.toml"),
            "{msg}"
        );
        let checked = Group::for_checks(&s).unwrap();
        assert_eq!(checked.count, 7);
        assert!(checked.is_invalid("GROUP_COUNT"));
        assert!(!checked.is_invalid("GROUP_LIST"));
    }

    crate::declare_settings! {
        /// Declares `SHARED_NAME` again, differently: what sharing avoids.
        pub struct Twice {
            /// another doc
            SHARED_NAME => name: String = "other",
        }
    }

    #[test]
    fn the_registry_knows_declared_settings_once_and_reports_a_second_declaration() {
        let mut registry = crate::Registry::new();
        registry.declare::<Group>();
        registry.declare::<Shared>();
        let shared: Vec<&str> = registry
            .declared_settings()
            .filter(|s| s.name == "SHARED_NAME")
            .map(|s| s.default)
            .collect();
        assert_eq!(shared, ["`\"shared\"`"]);
        assert_eq!(registry.conflicting_declarations().count(), 0);
        assert_eq!(
            Twice::from_settings(&Settings::default()).unwrap().name,
            "other"
        );
        registry.declare::<Twice>();
        let conflicts: Vec<_> = registry.conflicting_declarations().collect();
        assert_eq!(conflicts.len(), 1);
        assert_eq!(
            (conflicts[0].0.doc, conflicts[0].1.doc),
            (" the shared one", " another doc")
        );
        let settings =
            Settings::from_toml_str("GROUP_COUNT = 1\nSHARED_NAME = \"x\"", "t").unwrap();
        assert!(registry.check_settings(&settings).is_ok());
    }

    #[test]
    fn a_default_that_does_not_read_names_the_setting() {
        let msg = declared_default::<u64>(&Settings::default(), "X", "\"text\"")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("invalid setting X") && msg.contains("declared default"),
            "{msg}"
        );
    }
}
