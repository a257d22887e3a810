package classifier_test

import (
	"math"
	"testing"

	"stylegan-tui/model/classifier"
	"stylegan-tui/model/toyfaces"
	"stylegan-tui/model/train"
)

// TestSeedRangesDisjoint: the four seed families lie in pairwise disjoint
// ranges, their functions stay inside them (at both ends of their
// domains), and no image of the GAN trainer's default pool lies in the
// judge's ranges or the classifier's held-out range.
func TestSeedRangesDisjoint(t *testing.T) {
	ranges := []struct {
		name string
		r    classifier.SeedRange
		in   []int64 // seeds the family's function gives at the ends of its domain
	}{
		{"classifier training", classifier.ClassifierTrainRange(), []int64{
			classifier.TrainSeed(0, 0), classifier.TrainSeed(math.MinInt64, math.MaxInt), classifier.TrainSeed(-1, 123)}},
		{"classifier held-out", classifier.ClassifierHeldoutRange(), []int64{
			classifier.HeldoutSeed(0), classifier.HeldoutSeed(classifier.HeldoutMax - 1)}},
		{"judge held-out", classifier.JudgeHeldoutRange(), []int64{
			classifier.JudgeHeldoutSeed(0), classifier.JudgeHeldoutSeed(classifier.HeldoutMax - 1)}},
		{"judge training", classifier.JudgeTrainRange(), []int64{
			classifier.JudgeTrainSeed(0, 0), classifier.JudgeTrainSeed(0, classifier.JudgeRunImages-1),
			classifier.JudgeTrainSeed(classifier.JudgeRunSeeds-1, 0), classifier.JudgeTrainSeed(classifier.JudgeRunSeeds-1, classifier.JudgeRunImages-1)}},
	}
	for i, a := range ranges {
		if a.r.Lo > a.r.Hi {
			t.Errorf("%s: empty range %+v", a.name, a.r)
		}
		for _, s := range a.in {
			if !a.r.Contains(s) {
				t.Errorf("%s: seed %d outside its range %+v", a.name, s, a.r)
			}
		}
		for _, b := range ranges[i+1:] {
			if a.r.Overlaps(b.r) {
				t.Errorf("%s %+v and %s %+v overlap", a.name, a.r, b.name, b.r)
			}
		}
	}
	// The judge's run seeds tile its range without sharing an image: run
	// s+1 starts below run s's last image.
	if a, b := classifier.JudgeTrainSeed(1, 0), classifier.JudgeTrainSeed(0, classifier.JudgeRunImages-1); a >= b {
		t.Errorf("run 1 image 0 has seed %d, run 0's last image %d", a, b)
	}
	if classifier.ClassifierHeldoutRange().Hi+1 != 0 || classifier.JudgeHeldoutRange().Hi+1 != classifier.ClassifierHeldoutRange().Lo {
		t.Errorf("held-out ranges %+v, %+v: want them adjacent below 0", classifier.ClassifierHeldoutRange(), classifier.JudgeHeldoutRange())
	}

	// The GAN trainer's pool (model/train's dataset: StreamSeed(DataSeed,
	// k), k < DataPool) is a set of hashes: checked seed by seed.
	o := train.DefaultOptions()
	for _, r := range []struct {
		name string
		r    classifier.SeedRange
	}{{"judge training", classifier.JudgeTrainRange()}, {"judge held-out", classifier.JudgeHeldoutRange()}, {"classifier held-out", classifier.ClassifierHeldoutRange()}} {
		for k := range o.DataPool {
			if s := toyfaces.StreamSeed(o.DataSeed, uint64(k)); r.r.Contains(s) {
				t.Errorf("GAN pool image %d (data seed %d) has seed %d, in the %s range", k, o.DataSeed, s, r.name)
			}
		}
	}
	if o.DataPool < 1000 {
		t.Errorf("default pool of %d images: the check above saw too few", o.DataPool)
	}
}
