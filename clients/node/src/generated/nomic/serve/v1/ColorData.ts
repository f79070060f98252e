// Original file: ../../proto/nomic/serve/v1/embedding_service.proto

import type { AverageColor as _nomic_serve_v1_AverageColor, AverageColor__Output as _nomic_serve_v1_AverageColor__Output } from '../../../nomic/serve/v1/AverageColor';
import type { DominantColor as _nomic_serve_v1_DominantColor, DominantColor__Output as _nomic_serve_v1_DominantColor__Output } from '../../../nomic/serve/v1/DominantColor';

/**
 * ColorData holds the colour statistics of an image's opaque pixels.
 */
export interface ColorData {
  /**
   * Mean colour of the opaque pixels.
   */
  'avg_color'?: (_nomic_serve_v1_AverageColor | null);
  /**
   * Mean colour of the most populated HSV bin (10 bins per channel).
   */
  'dominant_color'?: (_nomic_serve_v1_DominantColor | null);
}

/**
 * ColorData holds the colour statistics of an image's opaque pixels.
 */
export interface ColorData__Output {
  /**
   * Mean colour of the opaque pixels.
   */
  'avg_color': (_nomic_serve_v1_AverageColor__Output | null);
  /**
   * Mean colour of the most populated HSV bin (10 bins per channel).
   */
  'dominant_color': (_nomic_serve_v1_DominantColor__Output | null);
}
