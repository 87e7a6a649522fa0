//! Helpers shared by the crate's own deterministic mutation tests (the PHP/JS/.env readers,
//! the RESP reader, the URL parser): one seeded PRNG, so a failing case is reproducible from
//! its seed. Test builds only.

/// xorshift64*: small, seeded, a fixed sequence for a fixed seed; no crate needed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sequence_is_fixed_by_the_seed_and_below_stays_in_range() {
        let (mut a, mut b) = (super::Rng(7), super::Rng(7));
        let xs: Vec<u64> = (0..4).map(|_| a.next()).collect();
        let ys: Vec<u64> = (0..4).map(|_| b.next()).collect();
        assert_eq!(xs, ys);
        assert!(xs.windows(2).all(|w| w[0] != w[1]));
        assert!((0..1000).all(|_| a.below(10) < 10));
        assert_eq!(a.below(0), 0);
    }
}
