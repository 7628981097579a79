//! The fused ops under autodiff over flex: each records one graph node whose backward pass is the matching
//! hand-written kernel, keeping what it needs (inputs, LayerNorm's x̂ and 1/σ, attention's weights) as state.

use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{unary, Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::ops::FloatTensorOps;
use burn::backend::{Autodiff, Flex};
use burn::tensor::Shape;

use super::attention_kernel::{self, AttentionShape};
use super::kernels::{self, LayerNormSaved};
use super::linear_kernel;
use super::{attention_shape, f32_slice, flex_tensor, float_targets, FusedOps};

impl<C: CheckpointStrategy> FusedOps for Autodiff<Flex, C> {
    fn fused_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct GeluBackward;

        impl Backward<Flex, 1> for GeluBackward {
            /// The derivative `GELU′(x)` at the input, computed by the forward pass.
            type State = Arc<Vec<f32>>;

            fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
                let Ops { parents, node, state: derivative } = ops;
                unary::<Flex, _>(parents, node, grads, |mut grad| {
                    // The upstream gradient is usually a fresh tensor no one else holds: scale it in place
                    // rather than allocate and fill a third buffer of the MLP's width; otherwise a copy of it.
                    let (layout, elements) = (grad.layout(), grad.layout().num_elements());
                    let whole = layout.is_contiguous() && layout.start_offset() == 0;
                    if let Some(dy) = grad.try_storage_mut::<f32>().filter(|dy| whole && dy.len() == elements) {
                        kernels::gelu_backward(&derivative, dy);
                        return grad;
                    }
                    let shape = grad.layout().shape().clone();
                    let mut dx = f32_slice(&grad.to_contiguous()).to_vec();
                    kernels::gelu_backward(&derivative, &mut dx);
                    flex_tensor(dx, shape)
                });
            }
        }

        let node = x.node();
        let input = x.primitive().to_contiguous();
        match GeluBackward.prepare::<C>([node]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let shape = input.layout().shape().clone();
                let (output, derivative) = kernels::gelu_forward_with_derivative(f32_slice(&input));
                prep.finish(Arc::new(derivative), flex_tensor(output, shape))
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::fused_gelu(input)),
        }
    }

    fn fused_layer_norm(x: FloatTensor<Self>, gamma: FloatTensor<Self>, beta: FloatTensor<Self>, epsilon: f64) -> FloatTensor<Self> {
        #[derive(Debug, Clone)]
        struct LayerNormState {
            saved: Arc<LayerNormSaved>,
            gamma: FlexTensor,
            shape: Shape,
        }

        #[derive(Debug)]
        struct LayerNormBackward;

        impl Backward<Flex, 3> for LayerNormBackward {
            type State = LayerNormState;

            fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
                let Ops { parents: [x, gamma, beta], node, state } = ops;
                let grad = grads.consume::<Flex>(&node);
                let (dx, dgamma, dbeta) = kernels::layer_norm_backward(&state.saved, f32_slice(&state.gamma), f32_slice(&grad.to_contiguous()));
                let d = state.gamma.layout().shape().clone();
                for (parent, value, shape) in [(x, dx, state.shape), (gamma, dgamma, d.clone()), (beta, dbeta, d)] {
                    if let Some(parent) = parent {
                        grads.register::<Flex>(parent.id, flex_tensor(value, shape));
                    }
                }
            }
        }

        let nodes = [x.node(), gamma.node(), beta.node()];
        let shape = x.primitive().layout().shape().clone();
        let [x, gamma, beta] = [&x, &gamma, &beta].map(|t| t.primitive().to_contiguous());
        match LayerNormBackward.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (y, saved) = kernels::layer_norm_forward(f32_slice(&x), f32_slice(&gamma), f32_slice(&beta), epsilon as f32);
                let output = flex_tensor(y, shape.clone());
                prep.finish(LayerNormState { saved: Arc::new(saved), gamma, shape }, output)
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::fused_layer_norm(x, gamma, beta, epsilon)),
        }
    }

    fn fused_causal_attention(q: FloatTensor<Self>, k: FloatTensor<Self>, v: FloatTensor<Self>, heads: usize) -> FloatTensor<Self> {
        #[derive(Debug, Clone)]
        struct AttentionState {
            inputs: [FlexTensor; 3],
            weights: Arc<Vec<f32>>,
            shape: AttentionShape,
            dims: Shape,
        }

        #[derive(Debug)]
        struct AttentionBackward;

        impl Backward<Flex, 3> for AttentionBackward {
            type State = AttentionState;

            fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
                let Ops { parents, node, state } = ops;
                let grad = grads.consume::<Flex>(&node);
                let [q, k, v] = &state.inputs;
                let gradients = attention_kernel::attention_backward(
                    f32_slice(q),
                    f32_slice(k),
                    f32_slice(v),
                    &state.weights,
                    f32_slice(&grad.to_contiguous()),
                    state.shape,
                );
                for (parent, value) in parents.into_iter().zip(gradients) {
                    if let Some(parent) = parent {
                        grads.register::<Flex>(parent.id, flex_tensor(value, state.dims.clone()));
                    }
                }
            }
        }

        let nodes = [q.node(), k.node(), v.node()];
        let dims = q.primitive().layout().shape().clone();
        let shape = attention_shape(&dims, heads);
        let inputs = [&q, &k, &v].map(|t| t.primitive().to_contiguous());
        match AttentionBackward.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let [q, k, v] = &inputs;
                let (out, weights) = attention_kernel::attention_forward(f32_slice(q), f32_slice(k), f32_slice(v), shape);
                let output = flex_tensor(out, dims.clone());
                prep.finish(AttentionState { inputs, weights: Arc::new(weights), shape, dims }, output)
            }
            OpsKind::UnTracked(prep) => {
                let [q, k, v] = inputs;
                prep.finish(Flex::fused_causal_attention(q, k, v, heads))
            }
        }
    }

    fn fused_cross_entropy(logits: FloatTensor<Self>, targets: FloatTensor<Self>) -> FloatTensor<Self> {
        #[derive(Debug, Clone)]
        struct CrossEntropyState {
            logits: FlexTensor,
            targets: Arc<Vec<i64>>,
        }

        #[derive(Debug)]
        struct CrossEntropyBackward;

        impl Backward<Flex, 2> for CrossEntropyBackward {
            type State = CrossEntropyState;

            fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
                let Ops { parents: [logits, _targets], node, state } = ops;
                let grad = grads.consume::<Flex>(&node);
                let upstream = f32_slice(&grad.to_contiguous())[0];
                if let Some(parent) = logits {
                    let d_logits = kernels::cross_entropy_backward(f32_slice(&state.logits), &state.targets, upstream);
                    grads.register::<Flex>(parent.id, flex_tensor(d_logits, state.logits.layout().shape().clone()));
                }
            }
        }

        let nodes = [logits.node(), targets.node()];
        let logits = logits.primitive().to_contiguous();
        let targets = float_targets(targets.primitive());
        let loss = flex_tensor(vec![kernels::cross_entropy_forward(f32_slice(&logits), &targets)], [1].into());
        match CrossEntropyBackward.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => prep.finish(CrossEntropyState { logits, targets: Arc::new(targets) }, loss),
            OpsKind::UnTracked(prep) => prep.finish(loss),
        }
    }

    fn fused_linear(x: FloatTensor<Self>, weight: FloatTensor<Self>, bias: FloatTensor<Self>) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct LinearBackward;

        impl Backward<Flex, 3> for LinearBackward {
            /// The input rows and the weight.
            type State = (FlexTensor, FlexTensor);

            fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
                let Ops { parents: [x, weight, bias], node, state: (input, w) } = ops;
                let grad = grads.consume::<Flex>(&node);
                // burn's matmul + add: the bias gradient is the add's broadcast reduction, then the matmul's two
                // products with transposed views, exactly as burn-autodiff asks burn-flex for them.
                if let Some(parent) = bias {
                    let d_out = w.layout().shape()[1];
                    grads.register::<Flex>(parent.id, Flex::float_reshape(Flex::float_sum_dim(grad.clone(), 0), [d_out].into()));
                }
                if let Some(parent) = x {
                    let dx = linear_kernel::matmul(&grad, &w.transpose(0, 1));
                    grads.register::<Flex>(parent.id, flex_tensor(dx, input.layout().shape().clone()));
                }
                if let Some(parent) = weight {
                    let dw = linear_kernel::matmul(&input.transpose(0, 1), &grad);
                    grads.register::<Flex>(parent.id, flex_tensor(dw, w.layout().shape().clone()));
                }
            }
        }

        let nodes = [x.node(), weight.node(), bias.node()];
        let [x, weight, bias] = [x, weight, bias].map(|t| t.into_primitive());
        match LinearBackward.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let output = Flex::fused_linear(x.clone(), weight.clone(), bias);
                prep.finish((x, weight), output)
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::fused_linear(x, weight, bias)),
        }
    }
}
