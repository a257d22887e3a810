package checkpoints

import (
	"slices"
	"testing"

	"stylegan-tui/model/classifier"
)

// TestDefaultInstruments: the two embedded toyfaces nets load and are the
// ones their names promise: the judge, of its own architecture and images,
// and the classifier the trainer may use.
func TestDefaultInstruments(t *testing.T) {
	j, err := DefaultJudge()
	if err != nil {
		t.Fatal(err)
	}
	c, err := DefaultClassifier()
	if err != nil {
		t.Fatal(err)
	}
	if j.Seeds() != classifier.JudgeSeeds || c.Seeds() != classifier.ClassifierSeeds {
		t.Errorf("image families: judge %v, classifier %v", j.Seeds(), c.Seeds())
	}
	jc, cc := j.Config(), c.Config()
	if jc.Convs == cc.Convs || slices.Equal(jc.Channels, cc.Channels) || j.NumParams() == c.NumParams() {
		t.Errorf("judge %+v (%d weights) and classifier %+v (%d weights): want different architectures", jc, j.NumParams(), cc, c.NumParams())
	}
}
