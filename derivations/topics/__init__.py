"""The mathematics, one module per site page; each holds its claims next to their derivations.

    information       the definitions H(p), H(p, q), D_KL(p || q); the decomposition H(p, q) = D_KL + H(p)
    entropy           the worked examples (0.69, 0.32, 0), bounds, the certain event, 0 log 0 = 0
    gibbs             Gibbs' inequality, D_KL(p || q) >= 0, as a certificate in three parts
    softmax           shift invariance, log-sum-exp and its stable form, log-softmax, d LSE / dz
    cross_entropy     CE = LSE(z) - z_t = NLLLoss(LogSoftmax(z), t); class indices = one-hot targets
    ce_gradient       the gradient softmax(z) - y, the Hessian diag(s) - s s^T, convexity
    ce_weights        class weights, for index and probability targets
    label_smoothing   torch's label smoothing as a mixture with the uniform target
    ce_reduction      'mean' divides by the sum of the kept targets' weights
    linear_head       cross-entropy of z = W h + b: dL/dh = W^T g, dL/dW = g h^T, and exact chunks
    lm_head_extras    the z-loss s LSE(z)^2 and logit soft-capping c tanh(z / c), with their gradients
    vocab_sharding    the vocabulary split across devices: LSE of the parts, per-shard gradients
    binary            sigmoid, BCE with logits, pos_weight, the two-class equivalence

Topics import the engine and the topics they build on (entropy and gibbs build on information's
definitions; the weights, smoothing and reduction claims on the gradient's), never emission.
``MODULES`` is the reading order: the verification table's and the site's.
"""

from derivations.topics import (
    binary,
    ce_gradient,
    ce_reduction,
    ce_weights,
    cross_entropy,
    entropy,
    gibbs,
    information,
    label_smoothing,
    linear_head,
    lm_head_extras,
    softmax,
    vocab_sharding,
)

#: Topic modules in reading order.
MODULES = (
    entropy,
    information,
    gibbs,
    softmax,
    cross_entropy,
    ce_gradient,
    ce_weights,
    label_smoothing,
    ce_reduction,
    linear_head,
    lm_head_extras,
    vocab_sharding,
    binary,
)
