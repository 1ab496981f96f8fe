"""Recurrent cells and sequence layers of the course, in the weight layouts of `keras.layers`;
attention over encoded sequences; frame masks for zero-padded features."""

from seqkeras.layers.attention import BahdanauAttention, LuongAttention
from seqkeras.layers.frame_mask import FrameMask
from seqkeras.layers.gru import GRU, GRUCell
from seqkeras.layers.lstm import LSTM, LSTMCell
from seqkeras.layers.masked import MaskedConv1D, MaskedGlobalMaxPooling1D
from seqkeras.layers.simple_rnn import SimpleRNN, SimpleRNNCell

__all__ = [
    "GRU",
    "LSTM",
    "BahdanauAttention",
    "FrameMask",
    "GRUCell",
    "LSTMCell",
    "LuongAttention",
    "MaskedConv1D",
    "MaskedGlobalMaxPooling1D",
    "SimpleRNN",
    "SimpleRNNCell",
]
