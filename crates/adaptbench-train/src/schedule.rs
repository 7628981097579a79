//! The learning-rate schedule: linear warm-up, then cosine decay to a floor (Loshchilov & Hutter 2017,
//! as in GPT-2/nanoGPT).

/// Linear warm-up to `peak` over `warmup` steps, then cosine decay to `floor` at step `total`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WarmupCosine {
    pub peak: f64,
    pub floor: f64,
    pub warmup: usize,
    pub total: usize,
}

impl WarmupCosine {
    /// Learning rate at 0-based `step`:
    /// `peak·(step+1)/warmup` while `step < warmup`, else
    /// `floor + ½(peak − floor)(1 + cos(π·p))` with `p = (step − warmup)/(total − warmup)` clamped to [0, 1].
    pub fn at(&self, step: usize) -> f64 {
        if step < self.warmup {
            return self.peak * (step + 1) as f64 / self.warmup as f64;
        }
        let span = self.total.saturating_sub(self.warmup).max(1) as f64;
        let progress = ((step - self.warmup) as f64 / span).min(1.0);
        self.floor + 0.5 * (self.peak - self.floor) * (1.0 + (std::f64::consts::PI * progress).cos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_up_is_linear_then_cosine_reaches_the_floor() {
        let schedule = WarmupCosine { peak: 1e-3, floor: 1e-4, warmup: 10, total: 110 };
        assert!((schedule.at(0) - 1e-4).abs() < 1e-15); // 1e-3 · 1/10
        assert!((schedule.at(9) - 1e-3).abs() < 1e-15); // end of warm-up: the peak
        assert!((schedule.at(10) - 1e-3).abs() < 1e-15); // p = 0: cos 0 = 1 → peak
        assert!((schedule.at(60) - 5.5e-4).abs() < 1e-15); // p = ½: cos(π/2) = 0 → (peak + floor)/2
        assert!((schedule.at(110) - 1e-4).abs() < 1e-15); // p = 1: the floor
        assert!((schedule.at(500) - 1e-4).abs() < 1e-15); // clamped past the end
    }
}
