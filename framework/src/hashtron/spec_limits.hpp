#pragma once
// Limits and derived sizes of a hashtron architecture, shared by its validation and its wiring.
#include "ablate/hashtron.hpp"

namespace ablate::hashtron {

inline constexpr int kMaxKeyBits = 32;        // a key is a uint32
inline constexpr int kMaxBitsPerFeature = 8;  // quantization levels of one feature: 2^8
inline constexpr int kMaxOutputBits = 16;     // the output read as an integer

/// Bits a combiner passes on from `bits` input bits.
int pooled_bits(const Combiner& c, int bits);
/// Bits in a first-layer key.
int first_layer_key_bits(const HashtronInputSpec& input);

}  // namespace ablate::hashtron
