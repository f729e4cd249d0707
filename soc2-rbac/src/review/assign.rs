//! Sharing items among reviewers: round-robin, never to the item's own user.

use soc2_core::UserId;

use super::ReviewError;

/// The reviewer of each subject in turn: the next of `reviewers` (cycling) that is not the
/// subject itself, so the load is even and nobody reviews their own access.
///
/// # Errors
/// [`ReviewError::NoEligibleReviewer`] naming the first subject only itself could review.
pub(crate) fn round_robin(
    subjects: impl IntoIterator<Item = UserId>,
    reviewers: &[UserId],
) -> Result<Vec<UserId>, ReviewError> {
    let count = reviewers.len();
    let mut next = 0;
    subjects
        .into_iter()
        .map(|subject| {
            let (index, reviewer) = (0..count)
                .map(|step| (next + step) % count)
                .find_map(|index| {
                    reviewers
                        .get(index)
                        .filter(|reviewer| **reviewer != subject)
                        .map(|reviewer| (index, *reviewer))
                })
                .ok_or(ReviewError::NoEligibleReviewer(subject))?;
            next = index + 1;
            Ok(reviewer)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<UserId> {
        (0..n).map(|_| UserId::new_v7()).collect()
    }

    #[test]
    fn reviewers_take_turns_skipping_the_subject() {
        let r = ids(3);
        let other = UserId::new_v7();
        let subjects = [other, r[0], r[1], other, r[2], r[2]];
        assert_eq!(
            round_robin(subjects, &r).unwrap(),
            [r[0], r[1], r[2], r[0], r[1], r[0]]
        );
    }

    #[test]
    fn a_lone_reviewer_cannot_review_themself() {
        let r = ids(1);
        let other = UserId::new_v7();
        assert_eq!(round_robin([other, other], &r).unwrap(), [r[0], r[0]]);
        assert!(matches!(
            round_robin([other, r[0]], &r),
            Err(ReviewError::NoEligibleReviewer(user)) if user == r[0]
        ));
        assert!(matches!(
            round_robin([other], &[]),
            Err(ReviewError::NoEligibleReviewer(user)) if user == other
        ));
        assert!(round_robin([], &[]).unwrap().is_empty());
    }
}
