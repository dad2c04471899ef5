//! xorshift64*: a deterministic generator for fuzz-like tests and bench
//! inputs (Vigna, "An experimental exploration of Marsaglia's xorshift
//! generators, scrambled", 2016). Not for anything that needs randomness
//! that cannot be guessed.

/// xorshift64* with a fixed seed.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// A generator from `seed` (0 is replaced: xorshift never leaves 0).
    pub fn new(seed: u64) -> Self {
        Self(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// The next 64 bits.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// 128 bits (a UFID's worth).
    pub fn next_u128(&mut self) -> u128 {
        u128::from(self.next()) << 64 | u128::from(self.next())
    }

    /// A value in `0..n` (`n > 0`; modulo bias is fine for tests).
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "Rng::below(0)");
        self.next() % n
    }

    /// An index in `0..n` (`n > 0`).
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// One element of `v` (not empty).
    pub fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.index(v.len())]
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    /// `v` shuffled in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_is_xorshift64_star() {
        // The first outputs for seed 1, computed by hand from the
        // recurrence above.
        let mut r = Rng::new(1);
        assert_eq!(r.next(), 0x47e4_ce4b_896c_dd1d);
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        assert_eq!(
            (0..4).map(|_| a.next()).collect::<Vec<_>>(),
            (0..4).map(|_| b.next()).collect::<Vec<_>>()
        );
        let mut v: Vec<u32> = (0..50).collect();
        a.shuffle(&mut v);
        assert_ne!(v, (0..50).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..50).collect::<Vec<_>>());
        let mut c = Rng::new(3);
        assert!((0..1000).all(|_| c.index(7) < 7));
        assert!((0..1000).all(|_| [4u8, 9].contains(&c.pick(&[4u8, 9]))));
        assert!((0..100).all(|_| c.chance(100)) && !(0..100).any(|_| c.chance(0)));
    }
}
