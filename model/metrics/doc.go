// Package metrics measures a StyleGAN generator trained on toyfaces with a
// toyfaces classifier, the way the StyleGAN paper (Karras et al. 2019,
// arXiv:1812.04948) uses a classifier trained on the real data as its
// measuring instrument. Evaluate computes the numbers of the project's bar
// (its quality bar for the default model):
//
//   - label distributions: per factor, the total variation distance between
//     the classifier's label histograms of N generated images (psi = 1) and N
//     real toyfaces at the model's resolution; the rate of the dataset's
//     deliberate hole (long hair with a full beard) among generated images;
//     the Fréchet distance between Gaussian fits of the classifier's
//     features, generated vs real, next to real vs real (two disjoint sets);
//   - style-mixing separation: for random pairs (A, B) with the same noise
//     and each style group (coarse 4²–8², middle 16²–32², fine 64²+), A
//     rendered with the group's styles from B; "own" is the share of the
//     group's factors that now show B's label, "keep" the share of the other
//     groups' factors that keep A's label, both counted over the factors on
//     which the classifier labels A and B differently;
//   - noise: the share of latents whose labels all survive resampling every
//     noise map, and the per-pixel standard deviation over many noise draws
//     (the paper's Figure 4, right column), summarised as the share of the
//     total variance held by the 20% most variable pixels, and the noise
//     share: the part of the pixel variance across generated images that
//     the noise alone makes, next to the same for toyfaces' stochastic
//     details.
//
// PPL measures the paper's perceptual path length (section 4.1) in Z and
// in W, with a perceptual Distance (for toyfaces models the classifier's).
//
// All labels are the classifier's, for real and generated images alike. The
// package knows nothing of files or terminals: the CLI (stylegan-tui eval)
// loads the models, draws the figure and prints the report.
package metrics
