//! Who makes a change: the actor and request context of the audit events soc2ctl causes.

use clap::Args;
use clap::builder::NonEmptyStringValueParser;
use soc2_audit::Actor;
use soc2_core::RequestContext;

/// The service name soc2ctl's audit events carry as their actor.
const SERVICE: &str = "soc2ctl";

/// The person running a command that changes something, for the audit trail.
#[derive(Debug, Args)]
pub(crate) struct Operator {
    /// Who runs the command (a login name, a ticket), recorded as the actor `soc2ctl:NAME`
    /// of its audit events; without it the actor is the service `soc2ctl`.
    #[arg(long, env = "SOC2_OPERATOR", value_name = "NAME", value_parser = NonEmptyStringValueParser::new())]
    operator: Option<String>,
}

impl Operator {
    /// The actor of the command's audit events: the service `soc2ctl`, with the operator's
    /// name when given.
    pub(crate) fn actor(&self) -> Actor {
        match &self.operator {
            Some(name) => Actor::service(&format!("{SERVICE}:{name}")),
            None => Actor::service(SERVICE),
        }
    }
}

/// The request context of soc2ctl's audit events: no client address, `soc2ctl/VERSION` as
/// the user agent.
pub(crate) fn context() -> RequestContext {
    RequestContext::new().with_user_agent(concat!("soc2ctl/", env!("CARGO_PKG_VERSION")))
}
