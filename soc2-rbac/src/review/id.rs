//! Typed ids of campaigns and their items (defined in soc2-core with the other ids): an
//! `ItemId` can never be passed for a `CampaignId`.

pub use soc2_core::{ReviewCampaignId as CampaignId, ReviewItemId as ItemId};
