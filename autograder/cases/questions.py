"""The self-test questions that follow a notebook's sections, with their answers.

Each question is a graded function without arguments that returns the
student's answer (an int, a tuple of ints, or the letters of the right
choices). The answer lives only here, in the grader's process; a case of kind
``"answer"`` is compared by `autograder.scoring.compare.compare_answer`, whose
messages never show it. A question has one case, the same in `check()` and in
official grading: there is nothing random to draw.

Known wrong answers name the misunderstanding behind them (without the right
answer), through the same diagnosis as the functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from autograder.cases._core import Case, CaseSet, Mistake


@dataclass(frozen=True)
class Question:
    """One question's answer and the wrong answers it recognises.

    Attributes
    ----------
    answer : int, tuple of int or str
        The right answer; a str is the set of right letters of a multiple choice.
    wrong : tuple of (answer, id, title, hint)
        Recognised wrong answers and what each shows.
    """

    answer: object
    wrong: tuple = ()


QUESTIONS: dict[str, Question] = {
    # 01: Conv1d(kernel 5, stride 2, padding 2) on a length-20 input.
    "q_output_length": Question(10, (
        (9, "missing_plus_one", "Your answer leaves out the +1 (or pads one side only).",
         "Count the window positions: floor((n + 2p - k) / s) positions after the first, "
         "plus the first one."),
        (8, "padding_ignored", "Your answer ignores the padding.",
         "Padding p adds p zeros at EACH end: the padded length is n + 2p."),
        (20, "stride_ignored", "Your answer keeps the input's length.",
         "Padding k//2 keeps the length at stride 1 only; a stride of 2 keeps every second "
         "window position."))),
    # 01: which properties hold (A: ∗ commutes, B: ⋆ commutes, C: ∗ associates,
    # D: x ⋆ h == x ∗ flip(h), E: ⋆ associates).
    "q_conv_properties": Question("ACD", (
        ("AC", "flip_identity_missed", "Your choice misses one true statement.",
         "Write x ⋆ h with the definition of ∗ after reversing h: the sums are term by term "
         "the same."),
        ("ABCDE", "correlation_commutes", "Your choice says cross-correlation commutes.",
         "Compute [1, 2] ⋆ [1, 0] and [1, 0] ⋆ [1, 2] in full: one is the other reversed."),
        ("ABCD", "correlation_commutes", "Your choice says cross-correlation commutes.",
         "Compute [1, 2] ⋆ [1, 0] and [1, 0] ⋆ [1, 2] in full: one is the other reversed."))),
    # 02: Conv2d(3, 8, kernel_size=5, stride=2, padding=1) on a (3, 32, 32) image.
    "q_conv2d_output_shape": Question((8, 15, 15), (
        ((3, 15, 15), "input_channels", "Your answer keeps the input's channel count.",
         "A layer has one output channel per filter: C_out of them."),
        ((8, 14, 14), "missing_plus_one", "Your spatial size leaves out the +1.",
         "floor((n + 2p - k) / s) + 1 along each spatial axis."),
        ((8, 16, 16), "rounded_up", "Your spatial size rounds up.",
         "Window positions are counted: a window that does not fit is not one; round down."))),
    # 02: the padding that keeps the size of a 7x7, stride-1, dilation-2 layer.
    "q_same_padding": Question(6, (
        (3, "dilation_ignored", "Your padding is right for an undilated 7x7 kernel.",
         "A dilated kernel spans d*(k-1) + 1 entries; pad half of d*(k-1) on each side."),
        (12, "total_padding", "Your answer is the total padding of both sides together.",
         "`padding=p` adds p on EACH side."))),
    # 03: a network of convolutions, pooling, batch norm and ReLU on an image with twice the
    # height and twice the width: (factor on the parameters, factor on the MACs).
    "q_double_resolution": Question((1, 4), (
        ((4, 4), "parameters_grow", "Your answer says the parameters grow with the image.",
         "A kernel's weights are shared by every position: their number depends on the "
         "channels and the kernel size only."),
        ((1, 2), "macs_per_side", "Your MACs grow with the side length.",
         "Every output position costs the same work, and there are H_out * W_out of them."),
        ((2, 2), "parameters_grow", "Your answer says the parameters grow with the image.",
         "A kernel's weights are shared by every position: their number depends on the "
         "channels and the kernel size only."))),
    # 05: which padding_mode makes Conv1d(k=3, padding=1) commute with circular shifts
    # (A zeros, B reflect, C replicate, D circular).
    "q_equivariant_padding": Question("D", (
        ("A", "zeros_equivariant", "Zero padding breaks equivariance at the borders.",
         "Shift a signal circularly: the entry that wraps around meets zeros on one side and "
         "its old neighbour on the other. Compare with `equivariance_gap`."),)),
    # 05: which layers break equivariance to circular shifts by one position
    # (A stride-1 circular conv, B ReLU, C stride-2 conv, D 2x2 max pool with stride 2,
    # E a per-channel bias, F a fully connected layer).
    "q_breaks_equivariance": Question("CDF", (
        ("F", "strides_commute", "Your choice says strided layers commute with a shift by one.",
         "A stride-2 layer keeps every second position: shifting the input by one moves the "
         "kept positions to the ones it drops."),
        ("BCDF", "pointwise_breaks", "Your choice says a pointwise layer breaks equivariance.",
         "A function applied to each entry on its own commutes with any permutation of the "
         "entries, shifts included."),
        ("CDEF", "bias_breaks", "Your choice says a per-channel bias breaks equivariance.",
         "The same bias is added at every position: shifting before or after changes "
         "nothing."))),
    # 06: the direct convolution equivalent to the transpose of Conv1d(k=4, s=2, p=1) on
    # i=8 (Dumoulin & Visin): (k', s', p', zeros inserted between inputs, a).
    "q_transposed_equivalent": Question((4, 1, 2, 1, 0), (
        ((4, 1, 1, 1, 0), "same_padding", "Your p' is the direct convolution's padding p.",
         "The transposed convolution pads the stretched input with p' = k - p - 1."),
        ((4, 2, 2, 1, 0), "stride_kept", "Your s' is the direct convolution's stride.",
         "The stride becomes zeros inserted between inputs; the equivalent convolution then "
         "slides with stride 1."),
        ((4, 1, 2, 2, 0), "zeros_equal_stride", "You insert s zeros between inputs.",
         "Insert s - 1 zeros between consecutive inputs, so that they end up s apart."))),
    # 06: output_padding for ConvTranspose1d(k=4, s=2, p=1) to give back length 9.
    "q_output_padding": Question(1, (
        (0, "a_ignored", "Your output_padding gives back the shorter of the two input lengths.",
         "Two input lengths map to the same output length; a = (i + 2p - k) mod s tells "
         "which one you came from."),)),
}


def _generator(name: str):
    def generate(cs: CaseSet, rng) -> None:
        cs.append(Case(name, "your answer", (), {}, True, QUESTIONS[name].answer, kind="answer"))
    return generate


def _mistake(answer, mistake_id, title, hint) -> Mistake:
    return Mistake(mistake_id, title, hint, lambda case: answer)


GENERATORS = {name: _generator(name) for name in QUESTIONS}
MISTAKES = {name: [_mistake(*w) for w in q.wrong] for name, q in QUESTIONS.items()}
