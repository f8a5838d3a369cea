//! Django's tests/auth_tests/test_validators.py, by class and name; the vectors marked
//! "(Python)" were computed with Python 3.12 and Django 6.1.3.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn settings(toml: &str) -> Settings {
    Settings::from_toml_str(toml, "settings.toml").unwrap()
}

fn user(username: &str, email: &str, first_name: &str, last_name: &str) -> User {
    let mut u = User::new("1", username, "!");
    u.email = email.into();
    u.first_name = first_name.into();
    u.last_name = last_name.into();
    u
}

fn testclient() -> User {
    user("testclient", "testclient@example.com", "Test", "Client")
}

fn message(result: Result<(), ValidationError>) -> String {
    result.unwrap_err().message
}

/// PasswordValidationTest's `override_settings`: Common, then MinimumLength(12).
const COMMON_AND_LENGTH_12: &str = r#"
    [[AUTH_PASSWORD_VALIDATORS]]
    NAME = "django.contrib.auth.password_validation.CommonPasswordValidator"
    [[AUTH_PASSWORD_VALIDATORS]]
    NAME = "django.contrib.auth.password_validation.MinimumLengthValidator"
    OPTIONS = { min_length = 12 }
"#;

mod password_validation_test {
    use super::*;

    #[test]
    fn test_get_default_password_validators() {
        let v = PasswordValidators::from_settings(&settings(COMMON_AND_LENGTH_12)).unwrap();
        let names: Vec<String> = v.iter().map(|v| format!("{v:?}")).collect();
        assert_eq!(names.len(), 2);
        assert!(names[0].starts_with("CommonPasswordValidator"), "{names:?}");
        assert_eq!(names[1], "MinimumLengthValidator { min_length: 12 }");
    }

    #[test]
    fn test_get_password_validators_custom() {
        let v = PasswordValidators::from_settings(&settings(
            "AUTH_PASSWORD_VALIDATORS = [{ NAME = \"django.contrib.auth.password_validation.CommonPasswordValidator\" }]",
        ))
        .unwrap();
        assert_eq!(v.iter().count(), 1);
        let none = PasswordValidators::from_settings(&settings("AUTH_PASSWORD_VALIDATORS = []"));
        assert!(none.unwrap().is_empty());
        // Django's default is the empty list.
        assert!(PasswordValidators::from_settings(&settings(""))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn test_get_password_validators_custom_invalid() {
        let e = PasswordValidators::from_settings(&settings(
            "AUTH_PASSWORD_VALIDATORS = [{ NAME = \"json.tool\" }]",
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains(
                "The module in NAME could not be imported: json.tool. Check your \
                 AUTH_PASSWORD_VALIDATORS setting."
            ),
            "{e}"
        );
        assert!(e.contains("AUTH_PASSWORD_VALIDATORS"), "{e}");
    }

    #[test]
    fn test_validate_password() {
        let v = PasswordValidators::from_settings(&settings(COMMON_AND_LENGTH_12)).unwrap();
        assert_eq!(v.validate_password("sufficiently-long", None), Ok(()));
        let too_short = "This password is too short. It must contain at least 12 characters.";
        let e = v.validate_password("django4242", None).unwrap_err();
        assert_eq!(e.messages(), [too_short]);
        assert_eq!(e.0[0].code, "password_too_short");
        let e = v.validate_password("password", None).unwrap_err();
        assert_eq!(e.messages(), ["This password is too common.", too_short]);
        assert_eq!(e.0[0].code, "password_too_common");
        assert_eq!(
            PasswordValidators::default().validate_password("password", None),
            Ok(())
        );
    }

    #[test]
    fn test_password_validators_help_texts() {
        let v = PasswordValidators::from_settings(&settings(COMMON_AND_LENGTH_12)).unwrap();
        let texts = v.help_texts();
        assert_eq!(texts.len(), 2);
        assert!(texts[1].contains("12 characters"));
        assert!(PasswordValidators::default().help_texts().is_empty());
    }

    #[test]
    fn test_password_validators_help_text_html() {
        let v = PasswordValidators::from_settings(&settings(COMMON_AND_LENGTH_12)).unwrap();
        let html = v.help_text_html();
        assert_eq!(html.matches("<li>").count(), 2);
        assert!(html.contains("12 characters"));
    }

    #[derive(Debug)]
    struct AmpersandValidator;

    impl PasswordValidator for AmpersandValidator {
        fn validate(&self, _: &str, _: Option<&User>) -> Result<(), ValidationError> {
            Ok(())
        }
        fn help_text(&self) -> String {
            "Must contain &".into()
        }
    }

    #[test]
    fn test_password_validators_help_text_html_escaping() {
        let v = PasswordValidators::new(vec![Arc::new(AmpersandValidator)]);
        assert_eq!(v.help_text_html(), "<ul><li>Must contain &amp;</li></ul>");
    }

    #[test]
    fn test_empty_password_validator_help_text_html() {
        assert_eq!(PasswordValidators::default().help_text_html(), "");
    }

    // Not in Django's tests: the other start-up refusals, each naming the setting.
    #[test]
    fn bad_entries_fail_naming_the_setting() {
        for (toml, expected) in [
            (
                "AUTH_PASSWORD_VALIDATORS = [{ NAME = \"django.contrib.auth.password_validation.MinimumLengthValidator\", OPTIONS = { min_lenght = 9 } }]",
                "MinimumLengthValidator got an unexpected option \"min_lenght\"",
            ),
            (
                "AUTH_PASSWORD_VALIDATORS = [{ NAME = \"django.contrib.auth.password_validation.MinimumLengthValidator\", OPTIONS = { min_length = \"9\" } }]",
                "min_length of django.contrib.auth.password_validation.MinimumLengthValidator must be an integer",
            ),
            (
                "AUTH_PASSWORD_VALIDATORS = [{ NAME = \"django.contrib.auth.password_validation.UserAttributeSimilarityValidator\", OPTIONS = { max_similarity = 0.09 } }]",
                "max_similarity must be at least 0.1",
            ),
            (
                "AUTH_PASSWORD_VALIDATORS = [{ NAME = \"django.contrib.auth.password_validation.CommonPasswordValidator\", OPTIONS = { password_list_path = \"/nonexistent/list.txt\" } }]",
                "the password list /nonexistent/list.txt could not be read",
            ),
            ("AUTH_PASSWORD_VALIDATORS = [{ OPTIONS = {} }]", "each entry needs a NAME"),
            (
                "AUTH_PASSWORD_VALIDATORS = [{ NAME = \"django.contrib.auth.password_validation.NumericPasswordValidator\", OPTION = {} }]",
                "unknown key \"OPTION\"",
            ),
        ] {
            let e = PasswordValidators::from_settings(&settings(toml))
                .unwrap_err()
                .to_string();
            assert!(e.contains(expected), "{e}");
            assert!(e.contains("AUTH_PASSWORD_VALIDATORS"), "{e}");
        }
    }
}

mod minimum_length_validator_test {
    use super::*;

    #[test]
    fn test_validate() {
        let expected =
            |n| format!("This password is too short. It must contain at least {n} characters.");
        assert_eq!(
            MinimumLengthValidator::default().validate("12345678", None),
            Ok(())
        );
        assert_eq!(MinimumLengthValidator::new(3).validate("123", None), Ok(()));
        let e = MinimumLengthValidator::default()
            .validate("1234567", None)
            .unwrap_err();
        assert_eq!(
            (e.message, e.code.as_str()),
            (expected(8), "password_too_short")
        );
        let e = MinimumLengthValidator::new(3)
            .validate("12", None)
            .unwrap_err();
        assert_eq!(
            (e.message, e.code.as_str()),
            (expected(3), "password_too_short")
        );
        // Characters, not bytes, as Python's len().
        assert!(MinimumLengthValidator::new(3).validate("éé", None).is_err());
        assert_eq!(MinimumLengthValidator::new(2).validate("éé", None), Ok(()));
    }

    #[test]
    fn test_help_text() {
        assert_eq!(
            MinimumLengthValidator::default().help_text(),
            "Your password must contain at least 8 characters."
        );
    }

    // test_l10n: Django's ngettext singular for 1 (Python).
    #[test]
    fn test_l10n() {
        let one = MinimumLengthValidator::new(1);
        assert_eq!(
            one.error_message(),
            "This password is too short. It must contain at least 1 character."
        );
        assert_eq!(
            one.help_text(),
            "Your password must contain at least 1 character."
        );
    }
}

mod user_attribute_similarity_validator_test {
    use super::*;

    #[test]
    fn test_validate() {
        let user = testclient();
        let expected = UserAttributeSimilarityValidator::error_message;
        let v = UserAttributeSimilarityValidator::default();
        assert_eq!(v.validate("testclient", None), Ok(()));
        let e = v.validate("testclient", Some(&user)).unwrap_err();
        assert_eq!(e.message, expected("username"));
        assert_eq!(e.code, "password_too_similar");
        assert_eq!(
            message(v.validate("example.com", Some(&user))),
            expected("email address")
        );
        let first = |max| {
            UserAttributeSimilarityValidator::default()
                .with_user_attributes(["first_name"])
                .with_max_similarity(max)
                .unwrap()
        };
        assert_eq!(
            message(first(0.3).validate("testclient", Some(&user))),
            expected("first name")
        );
        // max_similarity=1 doesn't allow passwords that are identical to the attribute's value.
        assert_eq!(
            message(first(1.0).validate(&user.first_name, Some(&user))),
            expected("first name")
        );
        // Very low max_similarity is rejected.
        assert_eq!(
            UserAttributeSimilarityValidator::default()
                .with_max_similarity(0.09)
                .unwrap_err()
                .to_string(),
            "max_similarity must be at least 0.1"
        );
        // Passes validation.
        assert_eq!(first(0.7).validate("testclient", Some(&user)), Ok(()));
    }

    #[test]
    fn test_help_text() {
        assert_eq!(
            UserAttributeSimilarityValidator::default().help_text(),
            "Your password can’t be too similar to your other personal information."
        );
    }

    // Beyond Django's test: outcomes of Django 6.1.3's validator (Python), parts split on
    // Python's `\W+`, Unicode lower-casing, unknown attribute names ignored.
    #[test]
    fn agrees_with_django_on_these_users() {
        let v = UserAttributeSimilarityValidator::default();
        let cases: &[(&str, User, Option<&str>)] = &[
            (
                "clienttest",
                user("testclient", "", "", ""),
                Some("username"),
            ),
            (
                "jean-marc",
                user("zz", "", "Jean-Marc", ""),
                Some("first name"),
            ),
            ("marc", user("zz", "", "Jean-Marc", ""), Some("first name")),
            ("x", user("zz", "", "", "x.y"), Some("last name")),
            ("ÉLODIE99", user("élodie", "", "", ""), Some("username")),
            ("a-long-unrelated-passphrase", user("al", "", "", ""), None),
            ("", user("_x", "", "", ""), None),
        ];
        for (password, u, verbose) in cases {
            let got = v.validate(password, Some(u)).err().map(|e| e.message);
            let want = verbose.map(UserAttributeSimilarityValidator::error_message);
            assert_eq!(got, want, "{password:?}");
        }
        let odd = UserAttributeSimilarityValidator::default().with_user_attributes(["nickname"]);
        assert_eq!(odd.validate("testclient", Some(&testclient())), Ok(()));
    }
}

mod common_password_validator_test {
    use super::*;

    #[test]
    fn test_validate() {
        let v = CommonPasswordValidator::new().unwrap();
        assert_eq!(v.validate("a-safe-password", None), Ok(()));
        assert_eq!(
            message(v.validate("godzilla", None)),
            "This password is too common."
        );
        // Lower-cased and stripped as Python's lower() and strip() (U+001C is Python
        // whitespace) (Python).
        assert!(v.validate("GODZILLA", None).is_err());
        assert!(v.validate(" godzilla\u{1c}", None).is_err());
        assert_eq!(v.validate("", None), Ok(()));
    }

    #[test]
    fn test_common_hexed_codes() {
        let v = CommonPasswordValidator::new().unwrap();
        for password in ["asdfjkl:", "&#2336:"] {
            assert_eq!(
                message(v.validate(password, None)),
                "This password is too common."
            );
        }
    }

    #[test]
    fn test_validate_custom_list() {
        let path = std::env::temp_dir().join(format!(
            "common-passwords-custom-{}.txt",
            std::process::id()
        ));
        // Django's tests/auth_tests/common-passwords-custom.txt.
        std::fs::write(&path, "from-my-custom-list\n").unwrap();
        let v = CommonPasswordValidator::from_path(path.to_str().unwrap()).unwrap();
        std::fs::remove_file(&path).ok();
        assert_eq!(v.validate("a-safe-password", None), Ok(()));
        let e = v.validate("from-my-custom-list", None).unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.code.as_str()),
            ("This password is too common.", "password_too_common")
        );
    }

    #[test]
    fn test_validate_django_supplied_file() {
        let v = CommonPasswordValidator::new().unwrap();
        assert_eq!(v.passwords().len(), 19_640);
        for password in v.passwords() {
            assert_eq!(password, &password.to_lowercase());
        }
    }

    #[test]
    fn test_help_text() {
        assert_eq!(
            CommonPasswordValidator::new().unwrap().help_text(),
            "Your password can’t be a commonly used password."
        );
    }
}

mod numeric_password_validator_test {
    use super::*;

    #[test]
    fn test_validate() {
        let v = NumericPasswordValidator;
        assert_eq!(v.validate("a-safe-password", None), Ok(()));
        let e = v.validate("42424242", None).unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.code.as_str()),
            (
                "This password is entirely numeric.",
                "password_entirely_numeric"
            )
        );
        // Python's str.isdigit() (Python): superscripts, Arabic-Indic and full-width digits
        // are digits, a vulgar fraction is not, nor is the empty string.
        for numeric in ["²³", "٣٤", "１２３", "①⑨"] {
            assert!(v.validate(numeric, None).is_err(), "{numeric}");
        }
        for not_numeric in ["½", "", "12a", "Ⅻ"] {
            assert_eq!(v.validate(not_numeric, None), Ok(()), "{not_numeric}");
        }
    }

    #[test]
    fn test_help_text() {
        assert_eq!(
            NumericPasswordValidator.help_text(),
            "Your password can’t be entirely numeric."
        );
    }
}

// difflib.SequenceMatcher(a=a, b=b).quick_ratio() (Python), the similarity Django's
// UserAttributeSimilarityValidator uses.
#[test]
fn quick_ratio_is_pythons() {
    for (a, b, ratio) in [
        ("testclient", "testclient", 1.0),
        ("example.com", "testclient@example.com", 0.6666666666666666),
        ("testclient", "test", 0.5714285714285714),
        ("testclient", "client", 0.75),
        ("abc", "", 0.0),
        ("", "", 1.0),
        ("aaab", "ab", 0.6666666666666666),
        ("ab", "aaab", 0.6666666666666666),
        ("password", "drowssap", 1.0),
        ("ナルト", "ルナ", 0.8),
        ("aaaaaaaaaab", "ab", 0.3076923076923077),
        (
            "superduperunguessablepassword",
            "supremelycomplex",
            0.4444444444444444,
        ),
        ("testclient", "test client", 0.9523809523809523),
    ] {
        assert_eq!(quick_ratio(a, b), ratio, "{a:?} {b:?}");
    }
}
