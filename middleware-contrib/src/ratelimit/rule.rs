//! The rules: one `@ratelimit(...)` decorator is a [`Ratelimit`] route marker, with its key,
//! rate, methods and group; [`parse_rate`] reads the original's rate strings.

use std::fmt;
use std::sync::Arc;

use middleware_core::Request;

/// The methods a rule counts: the decorator's `method=` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Methods {
    /// Every method (`ratelimit.ALL`, the default).
    All,
    /// One method, as written (`method="POST"`).
    One(String),
    /// Several methods (`method=["GET", "POST"]`, `ratelimit.UNSAFE`).
    List(Vec<String>),
}

impl Methods {
    /// `ratelimit.UNSAFE`: DELETE, PATCH, POST and PUT.
    pub fn unsafe_methods() -> Self {
        Methods::List(
            ["DELETE", "PATCH", "POST", "PUT"]
                .map(str::to_owned)
                .to_vec(),
        )
    }

    pub(super) fn matches(&self, method: &str) -> bool {
        match self {
            Methods::All => true,
            Methods::One(m) => m.eq_ignore_ascii_case(method),
            Methods::List(ms) => ms.iter().any(|m| m.eq_ignore_ascii_case(method)),
        }
    }

    /// The methods part of the cache key: `""` for all, a single method as written, a list
    /// upper-cased, sorted and joined.
    pub(super) fn key_part(&self) -> String {
        match self {
            Methods::All => String::new(),
            Methods::One(m) => m.clone(),
            Methods::List(ms) => {
                let mut upper: Vec<String> = ms.iter().map(|m| m.to_ascii_uppercase()).collect();
                upper.sort();
                upper.concat()
            }
        }
    }
}

/// A callable key: `key(group, request)`.
pub type KeyFn = Arc<dyn Fn(&str, &Request) -> String + Send + Sync>;
/// A callable rate: `rate(group, request)`, `None` for "no limit".
pub type RateFn = Arc<dyn Fn(&str, &Request) -> Option<Rate> + Send + Sync>;

/// A rate: at most `count` requests per `seconds`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed per window.
    pub count: u64,
    /// The window, in seconds.
    pub seconds: u64,
}

/// The original's `_split_rate`: `"100/s"`, `"100/10s"`, `"100/10"` (seconds), `"100/m"`,
/// `"400/10m"`, `"1000/h"`, `"800/d"`. Like `re.match`, only a prefix must match and the
/// period letter must be lower case (`"5/M"` reads as five per second, as in the original).
pub fn parse_rate(rate: &str) -> Option<Rate> {
    // `([\d]+)/([\d]*)([smhd])?` with `re.match`, by hand.
    let (count, rest) = rate.split_once('/')?;
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let unit: u64 = match rest.as_bytes().get(digits) {
        Some(b'm') => 60,
        Some(b'h') => 3600,
        Some(b'd') => 86400,
        // `s`, nothing, or anything the optional group does not match: seconds.
        _ => 1,
    };
    let seconds = match &rest[..digits] {
        "" => unit,
        multi => unit.checked_mul(multi.parse().ok()?)?,
    };
    Some(Rate {
        count: count.parse().ok()?,
        seconds,
    })
}

#[derive(Clone)]
pub(super) enum KeySpec {
    Named(String),
    Custom(KeyFn),
}

#[derive(Clone)]
pub(super) enum RateSpec {
    Text(String),
    Fixed(Rate),
    Unlimited,
    Custom(RateFn),
}

/// One `@ratelimit(...)` decorator, as a route marker.
///
/// Keys: `"ip"`, `"user"`, `"user_or_ip"`, `"get:<param>"`, `"post:<field>"`,
/// `"header:<name>"`, or a closure ([`Ratelimit::key_fn`]). The group defaults to the route
/// pattern (the original uses the view's dotted name), so each route counts separately.
#[derive(Clone)]
pub struct Ratelimit {
    pub(super) group: Option<String>,
    pub(super) key: Option<KeySpec>,
    pub(super) rate: RateSpec,
    pub(super) method: Methods,
    pub(super) block: bool,
}

impl fmt::Debug for Ratelimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ratelimit")
            .field("group", &self.group)
            .field("method", &self.method)
            .field("block", &self.block)
            .finish_non_exhaustive()
    }
}

impl Ratelimit {
    /// `@ratelimit(key=key, rate=rate)`: blocking, every method.
    pub fn new(key: &str, rate: &str) -> Self {
        Ratelimit {
            group: None,
            key: Some(KeySpec::Named(key.to_owned())),
            rate: RateSpec::Text(rate.to_owned()),
            method: Methods::All,
            block: true,
        }
    }

    /// `@ratelimit(rate=rate)` without a key: every request fails with `ImproperlyConfigured`,
    /// as in the original.
    pub fn without_key(rate: &str) -> Self {
        Ratelimit {
            key: None,
            ..Ratelimit::new("", rate)
        }
    }

    /// `key=<callable>`.
    pub fn key_fn(mut self, key: KeyFn) -> Self {
        self.key = Some(KeySpec::Custom(key));
        self
    }

    /// `rate=(count, seconds)`.
    pub fn rate(mut self, rate: Rate) -> Self {
        self.rate = RateSpec::Fixed(rate);
        self
    }

    /// `rate=None`: never limited.
    pub fn unlimited(mut self) -> Self {
        self.rate = RateSpec::Unlimited;
        self
    }

    /// `rate=<callable>`.
    pub fn rate_fn(mut self, rate: RateFn) -> Self {
        self.rate = RateSpec::Custom(rate);
        self
    }

    /// `group=...`: rules with the same group (and rate, key value and methods) share a counter.
    pub fn group(mut self, group: &str) -> Self {
        self.group = Some(group.to_owned());
        self
    }

    /// `method="POST"`.
    pub fn method(mut self, method: &str) -> Self {
        self.method = Methods::One(method.to_owned());
        self
    }

    /// `method=[...]` / `ratelimit.UNSAFE` / `ratelimit.ALL`.
    pub fn methods(mut self, methods: Methods) -> Self {
        self.method = methods;
        self
    }

    /// `block=False`: only set [`Limited`] for the view to read.
    pub fn block(mut self, block: bool) -> Self {
        self.block = block;
        self
    }
}

/// Stacked `@ratelimit` decorators, outermost first: evaluated in order, the first blocking
/// one that limits answers.
#[derive(Clone, Debug, Default)]
pub struct Ratelimits(pub Vec<Ratelimit>);

/// Django's `request.limited`: whether any rule evaluated so far limited this request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limited(pub bool);

/// The authenticated user's primary key (what Django's `request.user.pk` is), put in the
/// request's extensions by an authentication layer; read by the `user` and `user_or_ip` keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthenticatedUser(pub String);

/// The original's `get_usage` result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    /// Requests counted in this window.
    pub count: i64,
    /// The rule's limit.
    pub limit: u64,
    /// Whether the request is over the limit.
    pub should_limit: bool,
    /// Seconds until the window ends (`-1` when the cache failed).
    pub time_left: i64,
}
