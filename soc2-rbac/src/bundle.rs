//! The policy set as one Cedar file, for the Cedar CLI.

use cedar_policy::Policy;

use crate::PolicySnapshot;

impl PolicySnapshot {
    /// Every policy in one Cedar text, each annotated `@id("file-stem.id")` with this crate's
    /// policy id, so `cedar validate`, `cedar authorize` and `cedar run-tests` name the
    /// policies as decisions and policy tests here do.
    ///
    /// # Errors
    /// A message when Cedar cannot render a policy (not expected for a loaded set).
    pub fn cedar_bundle(&self) -> Result<String, String> {
        let mut out = String::new();
        for id in &self.policy_ids {
            let policy = self
                .policies
                .policy(&cedar_policy::PolicyId::new(id))
                .ok_or_else(|| format!("policy `{id}` is missing from the set"))?;
            out.push_str(&renamed(policy, id)?.to_string());
            out.push_str("\n\n");
        }
        Ok(out)
    }
}

/// `policy` with its `@id` annotation replaced by `id`.
fn renamed(policy: &Policy, id: &str) -> Result<Policy, String> {
    let mut json = policy.to_json().map_err(|e| e.to_string())?;
    if let Some(object) = json.as_object_mut() {
        let annotations = object
            .entry("annotations")
            .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
        if let Some(annotations) = annotations.as_object_mut() {
            annotations.insert("id".into(), serde_json::Value::String(id.into()));
        }
    }
    Policy::from_json(Some(cedar_policy::PolicyId::new(id)), json).map_err(|e| e.to_string())
}
