//! Export of a trained model to the inference crate's plain `f32` layout, for the KV-cached prompt engine and
//! for evaluation on the CPU.

use adaptbench_infer::{Dense, FrozenBlock, FrozenLstm, FrozenLstmLayer, FrozenModel, FrozenTransformer, Norm};
use burn::nn::{LayerNorm, Linear};
use burn::tensor::Tensor;

use crate::config::Arch;
use crate::network::{sinusoidal_table, Network};

/// Copies `model`'s weights (burn's row-major layouts: `Linear` is `[d_in, d_out]`) into a
/// [`FrozenTransformer`] (positions become a `[context, d_model]` table, learned or sinusoidal) or a
/// [`FrozenLstm`].
///
/// # Panics
/// If the model carries a prompt (the engine takes prompts as tokens, per call) or an intervention (which the
/// engine does not run).
pub fn freeze(model: &Network) -> FrozenModel {
    assert!(model.prompt.is_none(), "freeze the base; the engine prepends prompts itself");
    assert!(model.intervention.is_none(), "the engine runs no ReFT intervention");
    freeze_weights(model)
}

/// The model as the engine runs it: its weights (LoRA merged, as burn's parameters hold them) and the bits of
/// its hard prompt (empty without a prompt). `None` for a soft prompt, which the engine, taking prompts as
/// tokens, cannot run, and for a ReFT intervention, which it does not run either.
pub fn engine_form(model: &Network) -> Option<(FrozenModel, Vec<u8>)> {
    if model.intervention.is_some() {
        return None;
    }
    let bits = match &model.prompt {
        None => Vec::new(),
        Some(prompt) => prompt.hard_bits()?,
    };
    Some((freeze_weights(model), bits))
}

fn freeze_weights(model: &Network) -> FrozenModel {
    match model.arch() {
        Arch::Transformer => freeze_transformer(model).into(),
        Arch::Lstm => freeze_lstm(model).into(),
    }
}

fn freeze_lstm(model: &Network) -> FrozenLstm {
    FrozenLstm {
        d_model: model.d_model,
        context: model.context,
        layer_norm_eps: model.layer_norm_eps as f32,
        token_embedding: values(model.token_embedding.weight.val()),
        layers: model.lstm.iter().map(|layer| FrozenLstmLayer { ih: dense(&layer.ih), hh: dense(&layer.hh) }).collect(),
        final_norm: norm(&model.final_norm),
        head: dense(&model.head),
    }
}

fn freeze_transformer(model: &Network) -> FrozenTransformer {
    let d = model.d_model;
    let positions = match &model.position_embedding {
        Some(table) => values(table.weight.val()),
        None => sinusoidal_table(model.context, d),
    };
    FrozenTransformer {
        d_model: d,
        n_heads: model.blocks.first().map_or(1, |block| block.attention.n_heads),
        context: model.context,
        layer_norm_eps: model.layer_norm_eps as f32,
        token_embedding: values(model.token_embedding.weight.val()),
        positions,
        blocks: model
            .blocks
            .iter()
            .map(|block| FrozenBlock {
                attention_norm: norm(&block.attention_norm),
                q: dense(&block.attention.q),
                k: dense(&block.attention.k),
                v: dense(&block.attention.v),
                o: dense(&block.attention.o),
                mlp_norm: norm(&block.mlp_norm),
                mlp_in: dense(&block.mlp.mlp_in),
                mlp_out: dense(&block.mlp.mlp_out),
            })
            .collect(),
        final_norm: norm(&model.final_norm),
        head: dense(&model.head),
    }
}

fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor.into_data().convert::<f32>().try_to_vec::<f32>().expect("f32 weights")
}

fn dense(linear: &Linear) -> Dense {
    let [d_in, d_out] = linear.weight.dims();
    let bias = linear.bias.as_ref().map_or_else(|| vec![0.0; d_out], |bias| values(bias.val()));
    Dense { weight: values(linear.weight.val()), bias, d_in, d_out }
}

fn norm(layer: &LayerNorm) -> Norm {
    let gamma = values(layer.gamma.val());
    let beta = layer.beta.as_ref().map_or_else(|| vec![0.0; gamma.len()], |beta| values(beta.val()));
    Norm { gamma, beta }
}
