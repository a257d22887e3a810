package classifier

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"stylegan-tui/model/ops"
	"stylegan-tui/model/toyfaces"
)

// TrainOptions configures Train.
type TrainOptions struct {
	Config Config
	Images int   // training images shown, each a fresh toyface (Seeds.Train(Seed, i))
	Batch  int   // images per Adam step
	Seed   int64 // weights, image seeds and augmentation
	// Seeds is the image family: the classifier's (TrainSeed, the zero
	// value) or the judge's (JudgeTrainSeed; Seed 0..JudgeRunSeeds−1). A
	// fine-tuning run keeps its Init net's family.
	Seeds Seeds
	LR    float64 // Adam learning rate (0: 2e-3); warm-up over the first 2%, cosine decay to 5% at the end
	// Res and ResWeight give the resolution augmentation: each image is
	// shown at Res[k] with probability ∝ ResWeight[k], downsampled as the
	// GAN trainer does (Images) and upsampled back as Predict does
	// (Upsample). Nil: DefaultRes, DefaultResWeight.
	Res       []int
	ResWeight []float64
	Workers   int // rendering goroutines (0: GOMAXPROCS)
	// Init, if set, is the net training starts from (fine-tuning; its
	// architecture replaces Config) instead of He-initialised weights.
	Init *Net
	// Progress, if set, is called after every step with the images seen
	// and the step's loss (summed over the factors, averaged over the batch).
	Progress func(images int, loss float64)
	// Context, if set, stops training after the step under way when it is
	// done: Train then returns the net so far (its "images" metadata says
	// how far) with an error wrapping the context's, so that a Ctrl-C
	// keeps the minutes already trained.
	Context context.Context
}

// DefaultRes and DefaultResWeight are the default resolution augmentation.
var (
	DefaultRes       = []int{64, 32, 16, 8}
	DefaultResWeight = []float64{0.5, 0.25, 0.15, 0.1}
)

// trainGraph is the training graph of one batch size.
type trainGraph struct {
	m      G.VM
	x      *tensor.Dense   // input images [B,3,64,64]
	y      []*tensor.Dense // per factor, one-hot labels [B,K]
	loss   *G.Node
	grads  []*G.Node
	params []*tensor.Dense // the graph's parameter values (wrt order)
}

// buildGraph builds the summed softmax cross-entropy of the net on a batch
// of B images, differentiated w.r.t. every parameter. values[i] backs
// parameter i of paramShapes(cfg) (float32 or float64 tensors).
func buildGraph(cfg Config, values []*tensor.Dense, B int, dt tensor.Dtype) (*trainGraph, error) {
	g := G.NewGraph()
	ps := paramShapes(cfg)
	nodes := map[string]*G.Node{}
	var wrt G.Nodes
	for i, p := range ps {
		n := G.NewTensor(g, dt, len(p.shape), G.WithShape(p.shape...), G.WithName(p.name), G.WithValue(values[i]))
		nodes[p.name] = n
		wrt = append(wrt, n)
	}
	cst := func(v float64) *G.Node {
		if dt == tensor.Float64 {
			return G.NewConstant(v)
		}
		return G.NewConstant(float32(v))
	}
	var err error
	do := func(f func() (*G.Node, error)) *G.Node {
		if err != nil {
			return nil
		}
		n, e := f()
		if e != nil {
			err = e
		}
		return n
	}
	tg := &trainGraph{params: values}
	tg.x = tensor.New(tensor.WithShape(B, 3, Size, Size), tensor.Of(dt))
	h := G.NewTensor(g, dt, 4, G.WithShape(B, 3, Size, Size), G.WithName("x"), G.WithValue(tg.x))
	for i := range cfg.Channels {
		for k := range cfg.depth() {
			name := cfg.convName(i, k)
			h = do(func() (*G.Node, error) { return ops.Conv2d(h, nodes[name+".weight"], 1) })
			h = do(func() (*G.Node, error) { return ops.AddBias(h, nodes[name+".bias"]) })
			h = do(func() (*G.Node, error) { return ops.LeakyReLU(h, slope) })
		}
		if cfg.pools(i) {
			h = do(func() (*G.Node, error) { return ops.Downsample2x(h) })
		}
	}
	h = do(func() (*G.Node, error) { return G.Reshape(h, tensor.Shape{B, cfg.flatDim()}) })
	linear := func(x *G.Node, w, b string, out int) *G.Node {
		y := do(func() (*G.Node, error) { return G.Mul(x, nodes[w]) })
		bb := do(func() (*G.Node, error) { return G.Reshape(nodes[b], tensor.Shape{1, out}) })
		return do(func() (*G.Node, error) { return G.BroadcastAdd(y, bb, nil, []byte{0}) })
	}
	feat := linear(h, "fc.weight", "fc.bias", cfg.Features)
	feat = do(func() (*G.Node, error) { return ops.LeakyReLU(feat, slope) })

	var lse, picked *G.Node
	for _, f := range toyfaces.Factors {
		k := len(f.Classes)
		z := linear(feat, "head."+f.Name+".weight", "head."+f.Name+".bias", k)
		z = do(func() (*G.Node, error) { return G.Mul(z, cst(1.0/LogitCap)) })
		z = do(func() (*G.Node, error) { return G.Tanh(z) })
		z = do(func() (*G.Node, error) { return G.Mul(z, cst(LogitCap)) })
		// log Σ exp z over the classes ([B]); |z| ≤ LogitCap keeps exp finite.
		e := do(func() (*G.Node, error) { return G.Exp(z) })
		e = do(func() (*G.Node, error) { return G.Sum(e, 1) })
		e = do(func() (*G.Node, error) { return G.Log(e) })
		if lse == nil {
			lse = e
		} else {
			lse = do(func() (*G.Node, error) { return G.Add(lse, e) })
		}
		// Σ onehot·z: the logit of the true class.
		yt := tensor.New(tensor.WithShape(B, k), tensor.Of(dt))
		tg.y = append(tg.y, yt)
		oh := G.NewTensor(g, dt, 2, G.WithShape(B, k), G.WithName("onehot."+f.Name), G.WithValue(yt))
		pz := do(func() (*G.Node, error) { return G.HadamardProd(oh, z) })
		pz = do(func() (*G.Node, error) { return G.Reshape(pz, tensor.Shape{B * k}) })
		pz = do(func() (*G.Node, error) { return G.Sum(pz, 0) })
		if picked == nil {
			picked = pz
		} else {
			picked = do(func() (*G.Node, error) { return G.Add(picked, pz) })
		}
	}
	l := do(func() (*G.Node, error) { return G.Sum(lse, 0) })
	l = do(func() (*G.Node, error) { return G.Sub(l, picked) })
	l = do(func() (*G.Node, error) { return G.Mul(l, cst(1/float64(B))) })
	if err != nil {
		return nil, fmt.Errorf("classifier: building the training graph: %w", err)
	}
	tg.loss = l
	if tg.grads, err = G.Grad(l, wrt...); err != nil {
		return nil, fmt.Errorf("classifier: gradient: %w", err)
	}
	tg.m = G.NewTapeMachine(g)
	return tg, nil
}

// step runs the graph once; the caller reads the loss and gradients, then
// the machine is reset.
func (tg *trainGraph) run() (float64, error) {
	if err := tg.m.RunAll(); err != nil {
		return 0, err
	}
	var loss float64
	switch v := tg.loss.Value().Data().(type) {
	case float32:
		loss = float64(v)
	case float64:
		loss = v
	}
	return loss, nil
}

// initNet makes the untrained net Train starts from.
func initNet(cfg Config, seed int64) (*Net, error) {
	n, err := newNet(cfg)
	if err != nil {
		return nil, err
	}
	initWeights(n, rand.New(rand.NewPCG(uint64(seed), 0x636c6173)))
	return n, nil
}

// initWeights sets He-initialised weights (biases zero).
func initWeights(n *Net, r *rand.Rand) {
	for _, p := range n.params {
		if len(p.shape) == 1 {
			continue
		}
		fanIn := numel(p.shape[1:])
		if len(p.shape) == 2 {
			fanIn = p.shape[0] // dense weights are [in, out]
		}
		std := math.Sqrt(2 / (1 + slope*slope) / float64(fanIn))
		for i := range p.data {
			p.data[i] = float32(r.NormFloat64() * std)
		}
	}
}

// batchData is one rendered, augmented training batch.
type batchData struct {
	x      []float32 // [B,3,64,64]
	labels []toyfaces.Labels
}

// makeBatch renders training batch k: images k·B … k·B+B−1 of the run,
// each at a random resolution of the augmentation.
func makeBatch(opt *TrainOptions, k int) batchData {
	B := opt.Batch
	seeds := make([]int64, B)
	for i := range seeds {
		seeds[i] = opt.Seeds.Train(opt.Seed, k*B+i)
	}
	pix, labels := renderSerial(seeds)
	r := rand.New(rand.NewPCG(uint64(opt.Seed), uint64(k)^0xa5a5a5a5))
	var wsum float64
	for _, w := range opt.ResWeight {
		wsum += w
	}
	n := 3 * Size * Size
	x := make([]float32, B*n)
	small := make([]float32, n)
	for i, p := range pix {
		res := opt.Res[len(opt.Res)-1]
		u := r.Float64() * wsum
		for j, w := range opt.ResWeight {
			if u < w {
				res = opt.Res[j]
				break
			}
			u -= w
		}
		if res == Size {
			toyfaces.DownsampleCHW(x[i*n:(i+1)*n], p, Size)
			continue
		}
		m := 3 * res * res
		toyfaces.DownsampleCHW(small[:m], p, res)
		Upsample(x[i*n:(i+1)*n], small[:m], 1, res)
	}
	return batchData{x: x, labels: labels}
}

func renderSerial(seeds []int64) ([][]uint8, []toyfaces.Labels) {
	pix := make([][]uint8, len(seeds))
	labels := make([]toyfaces.Labels, len(seeds))
	for i, s := range seeds {
		pix[i], labels[i] = renderOne(s)
	}
	return pix, labels
}

// Train trains a classifier from scratch on fresh toyfaces images. The
// result depends only on the options (and the BLAS's rounding).
func Train(opt TrainOptions) (*Net, error) {
	if opt.Batch < 1 || opt.Images < opt.Batch {
		return nil, fmt.Errorf("classifier: Train: batch %d, images %d: want 1 ≤ batch ≤ images", opt.Batch, opt.Images)
	}
	if err := opt.Seeds.checkRun(opt.Seed, opt.Images); err != nil {
		return nil, err
	}
	if opt.Init != nil && opt.Init.Seeds() != opt.Seeds {
		return nil, fmt.Errorf("classifier: Train: the init net was trained on the %s's images, this run draws the %s's: one net, one image family", opt.Init.Seeds(), opt.Seeds)
	}
	if opt.LR == 0 {
		opt.LR = 2e-3
	}
	if opt.Res == nil {
		opt.Res, opt.ResWeight = DefaultRes, DefaultResWeight
	}
	if len(opt.Res) != len(opt.ResWeight) || len(opt.Res) == 0 {
		return nil, fmt.Errorf("classifier: Train: %d resolutions, %d weights", len(opt.Res), len(opt.ResWeight))
	}
	var wsum float64
	for k, r := range opt.Res {
		switch r {
		case 8, 16, 32, 64:
		default:
			return nil, fmt.Errorf("classifier: Train: augmentation resolution %d, want 8, 16, 32 or 64", r)
		}
		if w := opt.ResWeight[k]; w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("classifier: Train: augmentation weight %v, want ≥ 0", w)
		}
		wsum += opt.ResWeight[k]
	}
	if wsum <= 0 {
		return nil, fmt.Errorf("classifier: Train: augmentation weights %v sum to %v, want > 0", opt.ResWeight, wsum)
	}
	var n *Net
	var err error
	if opt.Init != nil {
		n, err = newNet(opt.Init.Config())
		if err != nil {
			return nil, err
		}
		for i := range n.params {
			copy(n.params[i].data, opt.Init.params[i].data)
		}
		for k, v := range opt.Init.meta {
			n.meta["init."+k] = v
		}
	} else if n, err = initNet(opt.Config, opt.Seed); err != nil {
		return nil, err
	}
	values := make([]*tensor.Dense, len(n.params))
	for i, p := range n.params {
		values[i] = tensor.New(tensor.WithShape(p.shape...), tensor.WithBacking(p.data))
	}
	tg, err := buildGraph(n.cfg, values, opt.Batch, tensor.Float32)
	if err != nil {
		return nil, err
	}
	defer tg.m.Close()

	steps := opt.Images / opt.Batch
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// Workers render batches k ≡ w (mod workers) into their own queues;
	// the loop takes them in order, so the data do not depend on timing.
	queues := make([]chan batchData, workers)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	for w := range queues {
		queues[w] = make(chan batchData, 2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := w; k < steps; k += workers {
				b := makeBatch(&opt, k)
				select {
				case queues[w] <- b:
				case <-quit:
					return
				}
			}
		}()
	}
	defer func() {
		close(quit)
		wg.Wait()
	}()

	adam := newAdam(n)
	xd := tg.x.Data().([]float32)
	warm := max(steps/50, 1)
	done := steps
	for k := 0; k < steps; k++ {
		if opt.Context != nil && opt.Context.Err() != nil {
			done = k
			break
		}
		b := <-queues[k%workers]
		copy(xd, b.x)
		setOneHot(tg.y, b.labels)
		loss, err := tg.run()
		if err != nil {
			tg.m.Reset()
			return nil, fmt.Errorf("classifier: step %d: %w", k, err)
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			tg.m.Reset()
			return nil, fmt.Errorf("classifier: step %d: loss %v", k, loss)
		}
		lr := opt.LR
		if k < warm {
			lr *= float64(k+1) / float64(warm)
		} else {
			t := float64(k-warm) / float64(max(steps-warm, 1))
			lr *= 0.05 + 0.95*0.5*(1+math.Cos(math.Pi*t))
		}
		grads := make([][]float32, len(tg.grads))
		for i, g := range tg.grads {
			grads[i] = g.Value().Data().([]float32)
		}
		adam.step(n, grads, lr)
		tg.m.Reset()
		if opt.Progress != nil {
			opt.Progress((k+1)*opt.Batch, loss)
		}
	}
	n.meta["images"] = fmt.Sprint(done * opt.Batch)
	n.meta["batch"] = fmt.Sprint(opt.Batch)
	n.meta["seed"] = fmt.Sprint(opt.Seed)
	delete(n.meta, "seeds")
	if opt.Seeds == JudgeSeeds {
		n.meta["seeds"] = opt.Seeds.String()
	}
	if done < steps {
		return n, fmt.Errorf("classifier: Train: stopped after %d of %d images: %w", done*opt.Batch, steps*opt.Batch, context.Cause(opt.Context))
	}
	return n, nil
}

// adam is Kingma & Ba's optimizer (β = 0.9, 0.999) over a net's weights.
type adam struct {
	t    int
	m, v [][]float32
}

func newAdam(n *Net) *adam {
	a := &adam{}
	for _, p := range n.params {
		a.m = append(a.m, make([]float32, len(p.data)))
		a.v = append(a.v, make([]float32, len(p.data)))
	}
	return a
}

func (a *adam) step(n *Net, grads [][]float32, lr float64) {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	a.t++
	c1 := 1 - math.Pow(b1, float64(a.t))
	c2 := 1 - math.Pow(b2, float64(a.t))
	step := float32(lr / c1)
	inv2 := float32(1 / c2)
	for k, p := range n.params {
		m, v, g := a.m[k], a.v[k], grads[k]
		for i := range p.data {
			m[i] = b1*m[i] + (1-b1)*g[i]
			v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
			p.data[i] -= step * m[i] / (float32(math.Sqrt(float64(v[i]*inv2))) + eps)
		}
	}
}

// setOneHot writes the one-hot labels of each factor into ys[f] [B,K].
func setOneHot(ys []*tensor.Dense, labels []toyfaces.Labels) {
	for f, y := range ys {
		k := len(toyfaces.Factors[f].Classes)
		switch d := y.Data().(type) {
		case []float32:
			clear(d)
			for i, l := range labels {
				d[i*k+l[f]] = 1
			}
		case []float64:
			clear(d)
			for i, l := range labels {
				d[i*k+l[f]] = 1
			}
		}
	}
}
