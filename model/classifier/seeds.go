package classifier

import (
	"fmt"
	"math"

	"stylegan-tui/model/toyfaces"
)

// Two instruments are trained on toyfaces, each on its own images: the
// classifier (checkpoints.DefaultClassifier), which a GAN trainer may use
// (a frozen feature backbone), and the judge (checkpoints.DefaultJudge),
// which only measures. A measuring instrument must not have been trained
// on the images a GAN learned from, nor on the images its own accuracy is
// checked on; so every seed family below lies in its own range of int64,
// and the ranges are pairwise disjoint (TestSeedRangesDisjoint):
//
//	classifier training   TrainSeed          0 … 2^63−1 (a hash, sign bit cleared)
//	classifier held-out   HeldoutSeed        −1 … −10^9
//	judge held-out        JudgeHeldoutSeed   −10^9−1 … −2·10^9
//	judge training        JudgeTrainSeed     −2^62−2^40+1 … −2^62
//
// A GAN run's pool is toyfaces.StreamSeed(DataSeed, k), k < DataPool
// (model/train): hashes anywhere in int64. They cannot be kept out of a
// range by construction, so the test checks the default run's 60000 seeds
// against both judge ranges and the classifier's held-out range; the
// judge's ranges are narrow (2^40 and 10^9 of 2^64 seeds) to keep any pool's
// chance of touching them negligible.

// SeedRange is an inclusive range of toyfaces seeds.
type SeedRange struct{ Lo, Hi int64 }

// Contains reports whether seed lies in r.
func (r SeedRange) Contains(seed int64) bool { return r.Lo <= seed && seed <= r.Hi }

// Overlaps reports whether r and o share a seed.
func (r SeedRange) Overlaps(o SeedRange) bool { return r.Lo <= o.Hi && o.Lo <= r.Hi }

// HeldoutMax is the number of held-out images of each instrument
// (HeldoutSeed and JudgeHeldoutSeed take i < HeldoutMax).
const HeldoutMax = 1_000_000_000

// Judge runs: a run seed in 0 … JudgeRunSeeds−1 and up to JudgeRunImages
// images per run.
const (
	JudgeRunSeeds  = 256
	JudgeRunImages = 1 << 32
)

// judgeTrainTop is the highest judge training seed (run 0, image 0).
const judgeTrainTop = -1 << 62

// HeldoutSeed is the toyfaces seed of the classifier's held-out image i
// (0 ≤ i < HeldoutMax): −1 − i. Training uses only non-negative seeds
// (TrainSeed), so held-out images are never trained on, whatever the
// training seed.
func HeldoutSeed(i int) int64 { return -1 - int64(i) }

// TrainSeed is the toyfaces seed of the classifier's training image i of a
// run with the given seed: toyfaces.StreamSeed with the sign bit cleared.
func TrainSeed(seed int64, i int) int64 {
	return toyfaces.StreamSeed(seed, uint64(i)) & math.MaxInt64
}

// JudgeHeldoutSeed is the toyfaces seed of the judge's held-out image i
// (0 ≤ i < HeldoutMax): −10^9 − 1 − i.
func JudgeHeldoutSeed(i int) int64 { return -HeldoutMax - 1 - int64(i) }

// JudgeTrainSeed is the toyfaces seed of the judge's training image i
// (0 ≤ i < JudgeRunImages) of a run with seed 0 ≤ seed < JudgeRunSeeds:
// −2^62 − seed·2^32 − i. Consecutive seeds are fine: toyfaces seeds a PCG
// with them, whose output permutation decorrelates neighbours (the
// held-out sets are consecutive too).
func JudgeTrainSeed(seed int64, i int) int64 {
	return judgeTrainTop - seed<<32 - int64(i)
}

// ClassifierTrainRange holds every TrainSeed.
func ClassifierTrainRange() SeedRange { return SeedRange{0, math.MaxInt64} }

// ClassifierHeldoutRange holds HeldoutSeed(i) for i < HeldoutMax.
func ClassifierHeldoutRange() SeedRange { return SeedRange{-HeldoutMax, -1} }

// JudgeHeldoutRange holds JudgeHeldoutSeed(i) for i < HeldoutMax.
func JudgeHeldoutRange() SeedRange { return SeedRange{-2 * HeldoutMax, -HeldoutMax - 1} }

// JudgeTrainRange holds JudgeTrainSeed(seed, i) for every run seed and
// image index a judge run may take.
func JudgeTrainRange() SeedRange {
	return SeedRange{judgeTrainTop - (JudgeRunSeeds-1)<<32 - (JudgeRunImages - 1), judgeTrainTop}
}

// Seeds names an instrument's image family: which seeds Train draws its
// images from and which the held-out accuracy is measured on.
type Seeds int

const (
	// ClassifierSeeds: TrainSeed and HeldoutSeed (the zero value, and the
	// family of every file without a "seeds" metadata entry).
	ClassifierSeeds Seeds = iota
	// JudgeSeeds: JudgeTrainSeed and JudgeHeldoutSeed.
	JudgeSeeds
)

func (s Seeds) String() string {
	if s == JudgeSeeds {
		return "judge"
	}
	return "classifier"
}

// ParseSeeds reads "classifier" or "judge".
func ParseSeeds(v string) (Seeds, error) {
	switch v {
	case "classifier":
		return ClassifierSeeds, nil
	case "judge":
		return JudgeSeeds, nil
	}
	return 0, fmt.Errorf("seed family %q: want classifier or judge", v)
}

// Train is the seed of training image i of a run with the given seed.
func (s Seeds) Train(seed int64, i int) int64 {
	if s == JudgeSeeds {
		return JudgeTrainSeed(seed, i)
	}
	return TrainSeed(seed, i)
}

// Heldout is the seed of held-out image i.
func (s Seeds) Heldout(i int) int64 {
	if s == JudgeSeeds {
		return JudgeHeldoutSeed(i)
	}
	return HeldoutSeed(i)
}

// HeldoutSeeds lists the first n held-out seeds from first on.
func (s Seeds) HeldoutSeeds(first, n int) []int64 {
	seeds := make([]int64, n)
	for i := range seeds {
		seeds[i] = s.Heldout(first + i)
	}
	return seeds
}

// checkRun reports a run seed or image count the family has no seeds for.
func (s Seeds) checkRun(seed int64, images int) error {
	if s != JudgeSeeds {
		return nil
	}
	if seed < 0 || seed >= JudgeRunSeeds {
		return fmt.Errorf("classifier: Train: judge run seed %d, want 0..%d (each run seed has its own range of image seeds)", seed, JudgeRunSeeds-1)
	}
	if int64(images) > JudgeRunImages {
		return fmt.Errorf("classifier: Train: %d images, a judge run has at most %d", images, int64(JudgeRunImages))
	}
	return nil
}

// Seeds is the image family the net was trained on ("seeds" metadata;
// files without it are the classifier's).
func (n *Net) Seeds() Seeds {
	if n.meta["seeds"] == "judge" {
		return JudgeSeeds
	}
	return ClassifierSeeds
}
