package kernels

import "stylegan-tui/model/internal/kernelknobs"

// The tests of model/ops run the ops on each kernel path through these.
func init() {
	kernelknobs.WinogradMinC, kernelknobs.WinogradMinHW = &winogradMinC, &winogradMinHW
	kernelknobs.ColBudget, kernelknobs.WinogradBudget = &colBudget, &winogradBudget
	kernelknobs.ConvSplitWork, kernelknobs.GroupCols = &convSplitWork, &groupCols
	kernelknobs.ElemKernelOn, kernelknobs.EpiKernelOn = &elemKernelOn, &epiKernelOn
}
