// Package lesson reads the explorer's lessons and makes its quizzes: a
// lesson is a Markdown file a teacher writes in any editor, one step per
// "##" heading, each step a caption and the explorer state it shows; a quiz
// is a round of questions generated from the loaded model, the same for
// everyone who uses the same seed. It has no terminal and no model weights:
// the explorer (package tui) runs lessons and quizzes, figures renders them.
//
// # The lesson format
//
//	# The lesson's title (optional)
//
//	Text before the first step: notes for the teacher, not shown.
//
//	## Style mixing: the coarse styles
//
//	The caption: any Markdown (emphasis, lists, `code`, a bare ``` code
//	block), rendered in the terminal under the step's title.
//
//	```state
//	sg1:a=10:b=58:s=4B6A:p=0.7:c=8
//	```
//
// Every "##" heading starts a step; its text is the caption. Fenced blocks
// whose info string is one of the words below set what the step shows (or,
// for keys, what its keys do); a fence with no info string is a code block
// of the caption; any other info string is an error (a typo would otherwise
// show as code).
//
//	state     one state string, as the explorer's c key copies it (see
//	          package latent): the picture the step starts from. Without
//	          one, a step keeps the explorer's state.
//	walk      the A→B walk on, from the step's state: words space=w or
//	          space=z, t=0..1 (where it starts), play (the default) or still.
//	quiz      a round of questions (Quiz): words mix, psi and walk (the
//	          kinds; all three without one), n=1..30 (the questions; one of
//	          each kind without it) and seed=N (the default 1).
//	requires  toyfaces: the step needs a model trained on toyfaces; it is
//	          skipped on other models.
//	keys      Markdown about the explorer's keys ("z walks in W instead"):
//	          the explorer shows it after the caption; slides (Slides), where
//	          no key does anything, leave it out.
//
// A step has at most one block of each kind. Errors name the file and line
// and say what was expected there (Error). A step that is broken keeps its
// place with its error (Step.Err) so the rest of the lesson still runs; only
// an unreadable, oversized (MaxBytes) or empty file fails as a whole.
package lesson
