//! `ReviewManager`: starts campaigns, records decisions (a revoke applies at once), closes
//! campaigns, finds overdue ones and writes reports; every step audited.

use std::sync::Arc;

use soc2_audit::{Actor, AuditEvent, AuditLog, Outcome, SdkAction, Target};
use soc2_core::{Clock, RequestContext, UserId, truncate_to_micros};
use time::OffsetDateTime;

use super::assign::round_robin;
use super::report::rfc3339;
use super::{
    Campaign, CampaignFilter, CampaignId, CampaignSpec, CampaignSummary, CloseOutcome,
    DecisionRecord, ItemFilter, ItemId, ReviewDecision, ReviewError, ReviewItem, ReviewReport,
    ReviewStore, SubjectFacts, SubjectInfo, scope, validate,
};
use crate::{RoleManager, RoleName, RoleStore};

/// Runs access reviews (SOC 2 CC6.2, CC6.3) over a [`ReviewStore`], reading assignments from
/// a [`RoleStore`] and revoking through a [`RoleManager`] (which must be over the same role
/// store). Audits `rbac.review.started`, `rbac.review.decided` (also refusals) and
/// `rbac.review.closed`.
#[derive(Debug, Clone)]
pub struct ReviewManager {
    reviews: Arc<dyn ReviewStore>,
    roles: Arc<dyn RoleStore>,
    role_manager: RoleManager,
    facts: Arc<dyn SubjectFacts>,
    audit: AuditLog,
    clock: Arc<dyn Clock>,
}

impl ReviewManager {
    /// A manager storing campaigns in `reviews`, snapshotting assignments from `roles`,
    /// revoking through `role_manager` and asking the host's `facts` about reviewed users.
    #[must_use]
    pub fn new(
        reviews: Arc<dyn ReviewStore>,
        roles: Arc<dyn RoleStore>,
        role_manager: RoleManager,
        facts: Arc<dyn SubjectFacts>,
        audit: AuditLog,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            reviews,
            roles,
            role_manager,
            facts,
            audit,
            clock,
        }
    }

    /// Starts a campaign on behalf of `by`: snapshots every direct assignment in the spec's
    /// scope as one item with the user's facts, and shares the items among the reviewers
    /// round-robin, never giving a user their own access. The campaign and all its items are
    /// stored in one step.
    ///
    /// # Errors
    /// [`ReviewError::InvalidSpec`], [`ReviewError::NoEligibleReviewer`] naming the user,
    /// [`ReviewError::Facts`], and store and audit failures (then nothing was stored).
    pub async fn start(
        &self,
        spec: CampaignSpec,
        by: Actor,
        context: &RequestContext,
    ) -> Result<Campaign, ReviewError> {
        let now = self.now();
        let spec = validate::spec(spec, now)?;
        let assignments = scope::assignments(self.roles.as_ref(), &spec.scope).await?;
        let reviewers = round_robin(assignments.iter().map(|(user, _)| *user), &spec.reviewers)?;
        let facts = self.facts_of(&assignments).await?;
        let campaign = Campaign {
            id: CampaignId::new_v7(),
            name: spec.name,
            scope: spec.scope,
            reviewers: spec.reviewers,
            started_at: now,
            due_at: spec.due_at,
            closed_at: None,
        };
        let items: Vec<ReviewItem> = assignments
            .into_iter()
            .zip(facts)
            .zip(reviewers)
            .map(|(((subject, role), facts), reviewer)| ReviewItem {
                id: ItemId::new_v7(),
                campaign: campaign.id,
                subject,
                role,
                facts,
                reviewer,
                decided: None,
            })
            .collect();
        let permit = self.audit.reserve()?;
        self.reviews.create(&campaign, &items).await?;
        permit.record(
            self.event(SdkAction::ReviewStarted, Outcome::Success, by, context)
                .with_target(campaign_target(campaign.id))
                .with_metadata("name", &campaign.name)
                .with_metadata("scope", &campaign.scope)
                .with_metadata("items", items.len())
                .with_metadata("reviewers", campaign.reviewers.len())
                .with_metadata("due_at", rfc3339(campaign.due_at)),
        );
        Ok(campaign)
    }

    /// `reviewer` decides `item`: keep the role, or revoke it at once. Only the item's
    /// assigned reviewer may decide, never its own user; a revoke needs a comment. An item is
    /// decided once: of concurrent decisions exactly one is recorded.
    ///
    /// # Errors
    /// [`ReviewError::InvalidComment`], [`ReviewError::UnknownItem`],
    /// [`ReviewError::SelfReview`] and [`ReviewError::NotAssigned`] (both audited),
    /// [`ReviewError::AlreadyDecided`], store and audit failures (then nothing changed), and
    /// [`ReviewError::Revocation`] when the decision was recorded but the revoke failed.
    pub async fn decide(
        &self,
        item: ItemId,
        reviewer: UserId,
        decision: ReviewDecision,
        comment: Option<&str>,
        context: &RequestContext,
    ) -> Result<ReviewItem, ReviewError> {
        let comment = validate::comment(decision, comment)?;
        let current = self
            .reviews
            .item(item)
            .await?
            .ok_or(ReviewError::UnknownItem(item))?;
        let refusal = if reviewer == current.subject {
            Some((
                ReviewError::SelfReview(item),
                "nobody reviews their own access",
            ))
        } else if reviewer != current.reviewer {
            Some((
                ReviewError::NotAssigned { item, reviewer },
                "the item is assigned to another reviewer",
            ))
        } else {
            None
        };
        if let Some((error, reason)) = refusal {
            self.audit.record(
                self.item_event(&current, Outcome::Denied, reviewer, context)
                    .with_reason(reason),
            )?;
            return Err(error);
        }
        if current.decided.is_some() {
            return Err(ReviewError::AlreadyDecided(item));
        }
        let record = DecisionRecord {
            decision,
            comment,
            decided_by: reviewer,
            decided_at: self.now(),
        };
        let permit = self.audit.reserve()?;
        if !self.reviews.decide(item, &record).await? {
            return Err(ReviewError::AlreadyDecided(item));
        }
        permit.record(
            self.item_event(&current, Outcome::Success, reviewer, context)
                .with_metadata("decision", record.decision.name())
                .with_metadata("comment", &record.comment),
        );
        if decision == ReviewDecision::Revoke {
            self.role_manager
                .revoke(Actor::user(reviewer), current.subject, &current.role)
                .await
                .map_err(ReviewError::Revocation)?;
        }
        Ok(ReviewItem {
            decided: Some(record),
            ..current
        })
    }

    /// Closes `campaign` on behalf of `by` once every item is decided.
    ///
    /// # Errors
    /// [`ReviewError::UnknownCampaign`], [`ReviewError::AlreadyClosed`],
    /// [`ReviewError::Undecided`], store and audit failures (then nothing changed).
    pub async fn close(
        &self,
        campaign: CampaignId,
        by: Actor,
        context: &RequestContext,
    ) -> Result<Campaign, ReviewError> {
        let permit = self.audit.reserve()?;
        let closed = match self.reviews.close(campaign, self.now()).await? {
            CloseOutcome::Closed(closed) => closed,
            CloseOutcome::AlreadyClosed => return Err(ReviewError::AlreadyClosed(campaign)),
            CloseOutcome::Undecided(remaining) => {
                return Err(ReviewError::Undecided {
                    campaign,
                    remaining,
                });
            }
            CloseOutcome::Unknown => return Err(ReviewError::UnknownCampaign(campaign)),
        };
        permit.record(
            self.event(SdkAction::ReviewClosed, Outcome::Success, by, context)
                .with_target(campaign_target(campaign))
                .with_metadata("name", &closed.name)
                .with_metadata("due_at", rfc3339(closed.due_at))
                .with_metadata(
                    "late",
                    closed.closed_at.is_some_and(|at| at > closed.due_at),
                ),
        );
        Ok(closed)
    }

    /// The open campaigns past their due date with undecided items, by the manager's clock.
    ///
    /// # Errors
    /// Store failures.
    pub async fn overdue(&self) -> Result<Vec<CampaignSummary>, ReviewError> {
        Ok(self
            .reviews
            .campaigns(CampaignFilter::OverdueAt(self.now()))
            .await?)
    }

    /// The report of `campaign`: every item with its facts, reviewer and decision.
    ///
    /// # Errors
    /// [`ReviewError::UnknownCampaign`] and store failures.
    pub async fn report(&self, campaign: CampaignId) -> Result<ReviewReport, ReviewError> {
        let generated_at = self.now();
        let found = self
            .reviews
            .campaign(campaign)
            .await?
            .ok_or(ReviewError::UnknownCampaign(campaign))?;
        let items = self.reviews.items(campaign, ItemFilter::default()).await?;
        Ok(ReviewReport {
            campaign: found,
            items,
            generated_at,
        })
    }

    /// The host's facts for each of `assignments` (sorted by user, so a user's items are
    /// adjacent and the host is asked once per user), at store precision.
    async fn facts_of(
        &self,
        assignments: &[(UserId, RoleName)],
    ) -> Result<Vec<SubjectInfo>, ReviewError> {
        let mut facts: Vec<SubjectInfo> = Vec::with_capacity(assignments.len());
        let mut previous = None;
        for (user, _) in assignments {
            let found = match facts.last() {
                Some(last) if previous == Some(*user) => last.clone(),
                _ => self
                    .facts
                    .facts(*user)
                    .await
                    .and_then(|found| validate::facts(found).map_err(Into::into))
                    .map_err(|source| ReviewError::Facts {
                        user: *user,
                        source,
                    })?,
            };
            previous = Some(*user);
            facts.push(found);
        }
        Ok(facts)
    }

    fn now(&self) -> OffsetDateTime {
        truncate_to_micros(self.clock.now())
    }

    fn event(
        &self,
        action: SdkAction,
        outcome: Outcome,
        by: Actor,
        context: &RequestContext,
    ) -> AuditEvent {
        AuditEvent::new(action, outcome, by, self.clock.now()).with_context(context.clone())
    }

    /// A `rbac.review.decided` event about `item` by `reviewer`.
    fn item_event(
        &self,
        item: &ReviewItem,
        outcome: Outcome,
        reviewer: UserId,
        context: &RequestContext,
    ) -> AuditEvent {
        self.event(
            SdkAction::ReviewDecided,
            outcome,
            Actor::user(reviewer),
            context,
        )
        .with_target(Target::new("user", &item.subject.to_string()))
        .with_metadata("campaign", item.campaign)
        .with_metadata("item", item.id)
        .with_metadata("role", item.role.as_str())
    }
}

fn campaign_target(campaign: CampaignId) -> Target {
    Target::new("review_campaign", &campaign.to_string())
}
