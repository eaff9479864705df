//! Splitting an amount by weights without creating or losing a minor unit: the largest remainder
//! method (Hamilton's). Each share is the floor of its exact quota; the units left over go one each
//! to the shares with the largest fractional remainders, ties to the lowest index. Callers list the
//! creator first, so ties go to the creator. Written by hand: it is six lines of integer
//! arithmetic, and the rule is part of the public money semantics, so no dependency may change it.

/// Splits `amount` (≥ 0) in proportion to `weights`; the result sums to `amount` exactly. With all
/// weights zero, everything goes to index 0.
pub fn allocate(amount: i64, weights: &[u64]) -> Vec<i64> {
    assert!(amount >= 0, "allocate splits non-negative amounts");
    assert!(!weights.is_empty(), "allocate needs at least one share");
    let total: u128 = weights.iter().map(|&weight| u128::from(weight)).sum();
    let mut shares = vec![0i64; weights.len()];
    if total == 0 {
        shares[0] = amount;
        return shares;
    }
    let amount_wide = amount as u128;
    let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(weights.len());
    let mut given: i64 = 0;
    for (index, &weight) in weights.iter().enumerate() {
        let exact = amount_wide * u128::from(weight);
        shares[index] = (exact / total) as i64;
        given += shares[index];
        remainders.push((exact % total, index));
    }
    // Largest remainder first; among equal remainders the lower index first.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let left = (amount - given) as usize;
    for &(_, index) in remainders.iter().take(left) {
        shares[index] += 1;
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::allocate;
    use proptest::prelude::*;

    #[test]
    fn splits_exactly_with_ties_to_the_first() {
        assert_eq!(allocate(100, &[1, 1, 1]), [34, 33, 33]);
        assert_eq!(allocate(1, &[1, 1]), [1, 0]);
        assert_eq!(allocate(0, &[3, 7]), [0, 0]);
        assert_eq!(allocate(10, &[0, 0]), [10, 0]);
        // 10 % fee on 1.99: 19.9 → 20 to the platform (largest remainder), 179.1 → 179 to the creator.
        assert_eq!(allocate(199, &[9_000, 1_000]), [179, 20]);
    }

    proptest! {
        #[test]
        fn never_creates_or_loses_a_unit(amount in 0i64..10_000_000_000, weights in prop::collection::vec(0u64..100_000_000, 1..10)) {
            let shares = allocate(amount, &weights);
            prop_assert_eq!(shares.iter().sum::<i64>(), amount);
            let total: u128 = weights.iter().map(|&w| u128::from(w)).sum();
            for (share, weight) in shares.iter().zip(&weights) {
                prop_assert!(*share >= 0);
                if total > 0 {
                    // Each share is within one unit of its exact quota.
                    let exact = amount as f64 * *weight as f64 / total as f64;
                    prop_assert!((*share as f64 - exact).abs() < 1.0 + 1e-6);
                }
            }
        }
    }

    /// Across thousands of small sales of random prices, no party drifts from its exact share: the
    /// rounding gives and takes about evenly.
    #[test]
    fn no_party_is_biased_across_many_small_sales() {
        let weights = [6_300u64, 1_000, 1_800, 900];
        let total: u64 = weights.iter().sum();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut error = [0f64; 4];
        let n = 20_000;
        for _ in 0..n {
            // xorshift: a fixed, dependency-free sequence of prices from 0.01 to 9.99.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let amount = (state % 999 + 1) as i64;
            for (index, share) in allocate(amount, &weights).into_iter().enumerate() {
                error[index] += share as f64 - amount as f64 * weights[index] as f64 / total as f64;
            }
        }
        for (index, total_error) in error.iter().enumerate() {
            let per_sale = total_error / f64::from(n);
            assert!(per_sale.abs() < 0.05, "party {index} drifts {per_sale} units per sale");
        }
    }
}
