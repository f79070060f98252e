import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { CustomHttpPattern as _google_api_CustomHttpPattern, CustomHttpPattern__Output as _google_api_CustomHttpPattern__Output } from './google/api/CustomHttpPattern';
import type { Http as _google_api_Http, Http__Output as _google_api_Http__Output } from './google/api/Http';
import type { HttpRule as _google_api_HttpRule, HttpRule__Output as _google_api_HttpRule__Output } from './google/api/HttpRule';
import type { Any as _google_protobuf_Any, Any__Output as _google_protobuf_Any__Output } from './google/protobuf/Any';
import type { DescriptorProto as _google_protobuf_DescriptorProto, DescriptorProto__Output as _google_protobuf_DescriptorProto__Output } from './google/protobuf/DescriptorProto';
import type { EnumDescriptorProto as _google_protobuf_EnumDescriptorProto, EnumDescriptorProto__Output as _google_protobuf_EnumDescriptorProto__Output } from './google/protobuf/EnumDescriptorProto';
import type { EnumOptions as _google_protobuf_EnumOptions, EnumOptions__Output as _google_protobuf_EnumOptions__Output } from './google/protobuf/EnumOptions';
import type { EnumValueDescriptorProto as _google_protobuf_EnumValueDescriptorProto, EnumValueDescriptorProto__Output as _google_protobuf_EnumValueDescriptorProto__Output } from './google/protobuf/EnumValueDescriptorProto';
import type { EnumValueOptions as _google_protobuf_EnumValueOptions, EnumValueOptions__Output as _google_protobuf_EnumValueOptions__Output } from './google/protobuf/EnumValueOptions';
import type { ExtensionRangeOptions as _google_protobuf_ExtensionRangeOptions, ExtensionRangeOptions__Output as _google_protobuf_ExtensionRangeOptions__Output } from './google/protobuf/ExtensionRangeOptions';
import type { FeatureSet as _google_protobuf_FeatureSet, FeatureSet__Output as _google_protobuf_FeatureSet__Output } from './google/protobuf/FeatureSet';
import type { FeatureSetDefaults as _google_protobuf_FeatureSetDefaults, FeatureSetDefaults__Output as _google_protobuf_FeatureSetDefaults__Output } from './google/protobuf/FeatureSetDefaults';
import type { FieldDescriptorProto as _google_protobuf_FieldDescriptorProto, FieldDescriptorProto__Output as _google_protobuf_FieldDescriptorProto__Output } from './google/protobuf/FieldDescriptorProto';
import type { FieldOptions as _google_protobuf_FieldOptions, FieldOptions__Output as _google_protobuf_FieldOptions__Output } from './google/protobuf/FieldOptions';
import type { FileDescriptorProto as _google_protobuf_FileDescriptorProto, FileDescriptorProto__Output as _google_protobuf_FileDescriptorProto__Output } from './google/protobuf/FileDescriptorProto';
import type { FileDescriptorSet as _google_protobuf_FileDescriptorSet, FileDescriptorSet__Output as _google_protobuf_FileDescriptorSet__Output } from './google/protobuf/FileDescriptorSet';
import type { FileOptions as _google_protobuf_FileOptions, FileOptions__Output as _google_protobuf_FileOptions__Output } from './google/protobuf/FileOptions';
import type { GeneratedCodeInfo as _google_protobuf_GeneratedCodeInfo, GeneratedCodeInfo__Output as _google_protobuf_GeneratedCodeInfo__Output } from './google/protobuf/GeneratedCodeInfo';
import type { ListValue as _google_protobuf_ListValue, ListValue__Output as _google_protobuf_ListValue__Output } from './google/protobuf/ListValue';
import type { MessageOptions as _google_protobuf_MessageOptions, MessageOptions__Output as _google_protobuf_MessageOptions__Output } from './google/protobuf/MessageOptions';
import type { MethodDescriptorProto as _google_protobuf_MethodDescriptorProto, MethodDescriptorProto__Output as _google_protobuf_MethodDescriptorProto__Output } from './google/protobuf/MethodDescriptorProto';
import type { MethodOptions as _google_protobuf_MethodOptions, MethodOptions__Output as _google_protobuf_MethodOptions__Output } from './google/protobuf/MethodOptions';
import type { OneofDescriptorProto as _google_protobuf_OneofDescriptorProto, OneofDescriptorProto__Output as _google_protobuf_OneofDescriptorProto__Output } from './google/protobuf/OneofDescriptorProto';
import type { OneofOptions as _google_protobuf_OneofOptions, OneofOptions__Output as _google_protobuf_OneofOptions__Output } from './google/protobuf/OneofOptions';
import type { ServiceDescriptorProto as _google_protobuf_ServiceDescriptorProto, ServiceDescriptorProto__Output as _google_protobuf_ServiceDescriptorProto__Output } from './google/protobuf/ServiceDescriptorProto';
import type { ServiceOptions as _google_protobuf_ServiceOptions, ServiceOptions__Output as _google_protobuf_ServiceOptions__Output } from './google/protobuf/ServiceOptions';
import type { SourceCodeInfo as _google_protobuf_SourceCodeInfo, SourceCodeInfo__Output as _google_protobuf_SourceCodeInfo__Output } from './google/protobuf/SourceCodeInfo';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from './google/protobuf/Struct';
import type { UninterpretedOption as _google_protobuf_UninterpretedOption, UninterpretedOption__Output as _google_protobuf_UninterpretedOption__Output } from './google/protobuf/UninterpretedOption';
import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from './google/protobuf/Value';
import type { Status as _google_rpc_Status, Status__Output as _google_rpc_Status__Output } from './google/rpc/Status';
import type { AverageColor as _nomic_serve_v1_AverageColor, AverageColor__Output as _nomic_serve_v1_AverageColor__Output } from './nomic/serve/v1/AverageColor';
import type { CacheStats as _nomic_serve_v1_CacheStats, CacheStats__Output as _nomic_serve_v1_CacheStats__Output } from './nomic/serve/v1/CacheStats';
import type { Chunk as _nomic_serve_v1_Chunk, Chunk__Output as _nomic_serve_v1_Chunk__Output } from './nomic/serve/v1/Chunk';
import type { Chunks as _nomic_serve_v1_Chunks, Chunks__Output as _nomic_serve_v1_Chunks__Output } from './nomic/serve/v1/Chunks';
import type { ColorData as _nomic_serve_v1_ColorData, ColorData__Output as _nomic_serve_v1_ColorData__Output } from './nomic/serve/v1/ColorData';
import type { CreateEmbeddingsRequest as _nomic_serve_v1_CreateEmbeddingsRequest, CreateEmbeddingsRequest__Output as _nomic_serve_v1_CreateEmbeddingsRequest__Output } from './nomic/serve/v1/CreateEmbeddingsRequest';
import type { CreateEmbeddingsResponse as _nomic_serve_v1_CreateEmbeddingsResponse, CreateEmbeddingsResponse__Output as _nomic_serve_v1_CreateEmbeddingsResponse__Output } from './nomic/serve/v1/CreateEmbeddingsResponse';
import type { DominantColor as _nomic_serve_v1_DominantColor, DominantColor__Output as _nomic_serve_v1_DominantColor__Output } from './nomic/serve/v1/DominantColor';
import type { EmbedBatchRequest as _nomic_serve_v1_EmbedBatchRequest, EmbedBatchRequest__Output as _nomic_serve_v1_EmbedBatchRequest__Output } from './nomic/serve/v1/EmbedBatchRequest';
import type { EmbedBatchResponse as _nomic_serve_v1_EmbedBatchResponse, EmbedBatchResponse__Output as _nomic_serve_v1_EmbedBatchResponse__Output } from './nomic/serve/v1/EmbedBatchResponse';
import type { EmbedListRequest as _nomic_serve_v1_EmbedListRequest, EmbedListRequest__Output as _nomic_serve_v1_EmbedListRequest__Output } from './nomic/serve/v1/EmbedListRequest';
import type { EmbedListResponse as _nomic_serve_v1_EmbedListResponse, EmbedListResponse__Output as _nomic_serve_v1_EmbedListResponse__Output } from './nomic/serve/v1/EmbedListResponse';
import type { EmbedQueryRequest as _nomic_serve_v1_EmbedQueryRequest, EmbedQueryRequest__Output as _nomic_serve_v1_EmbedQueryRequest__Output } from './nomic/serve/v1/EmbedQueryRequest';
import type { EmbedQueryResponse as _nomic_serve_v1_EmbedQueryResponse, EmbedQueryResponse__Output as _nomic_serve_v1_EmbedQueryResponse__Output } from './nomic/serve/v1/EmbedQueryResponse';
import type { EmbedRequest as _nomic_serve_v1_EmbedRequest, EmbedRequest__Output as _nomic_serve_v1_EmbedRequest__Output } from './nomic/serve/v1/EmbedRequest';
import type { EmbedResponse as _nomic_serve_v1_EmbedResponse, EmbedResponse__Output as _nomic_serve_v1_EmbedResponse__Output } from './nomic/serve/v1/EmbedResponse';
import type { EmbeddingData as _nomic_serve_v1_EmbeddingData, EmbeddingData__Output as _nomic_serve_v1_EmbeddingData__Output } from './nomic/serve/v1/EmbeddingData';
import type { EmbeddingServiceClient as _nomic_serve_v1_EmbeddingServiceClient, EmbeddingServiceDefinition as _nomic_serve_v1_EmbeddingServiceDefinition } from './nomic/serve/v1/EmbeddingService';
import type { EmbeddingUsage as _nomic_serve_v1_EmbeddingUsage, EmbeddingUsage__Output as _nomic_serve_v1_EmbeddingUsage__Output } from './nomic/serve/v1/EmbeddingUsage';
import type { HealthRequest as _nomic_serve_v1_HealthRequest, HealthRequest__Output as _nomic_serve_v1_HealthRequest__Output } from './nomic/serve/v1/HealthRequest';
import type { HealthResponse as _nomic_serve_v1_HealthResponse, HealthResponse__Output as _nomic_serve_v1_HealthResponse__Output } from './nomic/serve/v1/HealthResponse';
import type { ImageEmbedListRequest as _nomic_serve_v1_ImageEmbedListRequest, ImageEmbedListRequest__Output as _nomic_serve_v1_ImageEmbedListRequest__Output } from './nomic/serve/v1/ImageEmbedListRequest';
import type { ImageEmbedListResponse as _nomic_serve_v1_ImageEmbedListResponse, ImageEmbedListResponse__Output as _nomic_serve_v1_ImageEmbedListResponse__Output } from './nomic/serve/v1/ImageEmbedListResponse';
import type { ImageEmbedRequest as _nomic_serve_v1_ImageEmbedRequest, ImageEmbedRequest__Output as _nomic_serve_v1_ImageEmbedRequest__Output } from './nomic/serve/v1/ImageEmbedRequest';
import type { ImageEmbedResponse as _nomic_serve_v1_ImageEmbedResponse, ImageEmbedResponse__Output as _nomic_serve_v1_ImageEmbedResponse__Output } from './nomic/serve/v1/ImageEmbedResponse';
import type { ImageStatsRequest as _nomic_serve_v1_ImageStatsRequest, ImageStatsRequest__Output as _nomic_serve_v1_ImageStatsRequest__Output } from './nomic/serve/v1/ImageStatsRequest';
import type { ImageStatsResponse as _nomic_serve_v1_ImageStatsResponse, ImageStatsResponse__Output as _nomic_serve_v1_ImageStatsResponse__Output } from './nomic/serve/v1/ImageStatsResponse';
import type { InfoRequest as _nomic_serve_v1_InfoRequest, InfoRequest__Output as _nomic_serve_v1_InfoRequest__Output } from './nomic/serve/v1/InfoRequest';
import type { InfoResponse as _nomic_serve_v1_InfoResponse, InfoResponse__Output as _nomic_serve_v1_InfoResponse__Output } from './nomic/serve/v1/InfoResponse';
import type { ItemError as _nomic_serve_v1_ItemError, ItemError__Output as _nomic_serve_v1_ItemError__Output } from './nomic/serve/v1/ItemError';
import type { Limits as _nomic_serve_v1_Limits, Limits__Output as _nomic_serve_v1_Limits__Output } from './nomic/serve/v1/Limits';
import type { ModelInfo as _nomic_serve_v1_ModelInfo, ModelInfo__Output as _nomic_serve_v1_ModelInfo__Output } from './nomic/serve/v1/ModelInfo';
import type { PackedEmbedding as _nomic_serve_v1_PackedEmbedding, PackedEmbedding__Output as _nomic_serve_v1_PackedEmbedding__Output } from './nomic/serve/v1/PackedEmbedding';
import type { PackedEmbeddings as _nomic_serve_v1_PackedEmbeddings, PackedEmbeddings__Output as _nomic_serve_v1_PackedEmbeddings__Output } from './nomic/serve/v1/PackedEmbeddings';
import type { Quantization as _nomic_serve_v1_Quantization, Quantization__Output as _nomic_serve_v1_Quantization__Output } from './nomic/serve/v1/Quantization';
import type { QuantizationRange as _nomic_serve_v1_QuantizationRange, QuantizationRange__Output as _nomic_serve_v1_QuantizationRange__Output } from './nomic/serve/v1/QuantizationRange';
import type { Scheduler as _nomic_serve_v1_Scheduler, Scheduler__Output as _nomic_serve_v1_Scheduler__Output } from './nomic/serve/v1/Scheduler';
import type { SimilarityInput as _nomic_serve_v1_SimilarityInput, SimilarityInput__Output as _nomic_serve_v1_SimilarityInput__Output } from './nomic/serve/v1/SimilarityInput';
import type { SimilarityRequest as _nomic_serve_v1_SimilarityRequest, SimilarityRequest__Output as _nomic_serve_v1_SimilarityRequest__Output } from './nomic/serve/v1/SimilarityRequest';
import type { SimilarityResponse as _nomic_serve_v1_SimilarityResponse, SimilarityResponse__Output as _nomic_serve_v1_SimilarityResponse__Output } from './nomic/serve/v1/SimilarityResponse';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  google: {
    api: {
      CustomHttpPattern: MessageTypeDefinition<_google_api_CustomHttpPattern, _google_api_CustomHttpPattern__Output>
      Http: MessageTypeDefinition<_google_api_Http, _google_api_Http__Output>
      HttpRule: MessageTypeDefinition<_google_api_HttpRule, _google_api_HttpRule__Output>
    }
    protobuf: {
      Any: MessageTypeDefinition<_google_protobuf_Any, _google_protobuf_Any__Output>
      DescriptorProto: MessageTypeDefinition<_google_protobuf_DescriptorProto, _google_protobuf_DescriptorProto__Output>
      Edition: EnumTypeDefinition
      EnumDescriptorProto: MessageTypeDefinition<_google_protobuf_EnumDescriptorProto, _google_protobuf_EnumDescriptorProto__Output>
      EnumOptions: MessageTypeDefinition<_google_protobuf_EnumOptions, _google_protobuf_EnumOptions__Output>
      EnumValueDescriptorProto: MessageTypeDefinition<_google_protobuf_EnumValueDescriptorProto, _google_protobuf_EnumValueDescriptorProto__Output>
      EnumValueOptions: MessageTypeDefinition<_google_protobuf_EnumValueOptions, _google_protobuf_EnumValueOptions__Output>
      ExtensionRangeOptions: MessageTypeDefinition<_google_protobuf_ExtensionRangeOptions, _google_protobuf_ExtensionRangeOptions__Output>
      FeatureSet: MessageTypeDefinition<_google_protobuf_FeatureSet, _google_protobuf_FeatureSet__Output>
      FeatureSetDefaults: MessageTypeDefinition<_google_protobuf_FeatureSetDefaults, _google_protobuf_FeatureSetDefaults__Output>
      FieldDescriptorProto: MessageTypeDefinition<_google_protobuf_FieldDescriptorProto, _google_protobuf_FieldDescriptorProto__Output>
      FieldOptions: MessageTypeDefinition<_google_protobuf_FieldOptions, _google_protobuf_FieldOptions__Output>
      FileDescriptorProto: MessageTypeDefinition<_google_protobuf_FileDescriptorProto, _google_protobuf_FileDescriptorProto__Output>
      FileDescriptorSet: MessageTypeDefinition<_google_protobuf_FileDescriptorSet, _google_protobuf_FileDescriptorSet__Output>
      FileOptions: MessageTypeDefinition<_google_protobuf_FileOptions, _google_protobuf_FileOptions__Output>
      GeneratedCodeInfo: MessageTypeDefinition<_google_protobuf_GeneratedCodeInfo, _google_protobuf_GeneratedCodeInfo__Output>
      ListValue: MessageTypeDefinition<_google_protobuf_ListValue, _google_protobuf_ListValue__Output>
      MessageOptions: MessageTypeDefinition<_google_protobuf_MessageOptions, _google_protobuf_MessageOptions__Output>
      MethodDescriptorProto: MessageTypeDefinition<_google_protobuf_MethodDescriptorProto, _google_protobuf_MethodDescriptorProto__Output>
      MethodOptions: MessageTypeDefinition<_google_protobuf_MethodOptions, _google_protobuf_MethodOptions__Output>
      NullValue: EnumTypeDefinition
      OneofDescriptorProto: MessageTypeDefinition<_google_protobuf_OneofDescriptorProto, _google_protobuf_OneofDescriptorProto__Output>
      OneofOptions: MessageTypeDefinition<_google_protobuf_OneofOptions, _google_protobuf_OneofOptions__Output>
      ServiceDescriptorProto: MessageTypeDefinition<_google_protobuf_ServiceDescriptorProto, _google_protobuf_ServiceDescriptorProto__Output>
      ServiceOptions: MessageTypeDefinition<_google_protobuf_ServiceOptions, _google_protobuf_ServiceOptions__Output>
      SourceCodeInfo: MessageTypeDefinition<_google_protobuf_SourceCodeInfo, _google_protobuf_SourceCodeInfo__Output>
      Struct: MessageTypeDefinition<_google_protobuf_Struct, _google_protobuf_Struct__Output>
      SymbolVisibility: EnumTypeDefinition
      UninterpretedOption: MessageTypeDefinition<_google_protobuf_UninterpretedOption, _google_protobuf_UninterpretedOption__Output>
      Value: MessageTypeDefinition<_google_protobuf_Value, _google_protobuf_Value__Output>
    }
    rpc: {
      Status: MessageTypeDefinition<_google_rpc_Status, _google_rpc_Status__Output>
    }
  }
  nomic: {
    serve: {
      v1: {
        AverageColor: MessageTypeDefinition<_nomic_serve_v1_AverageColor, _nomic_serve_v1_AverageColor__Output>
        CacheStats: MessageTypeDefinition<_nomic_serve_v1_CacheStats, _nomic_serve_v1_CacheStats__Output>
        Chunk: MessageTypeDefinition<_nomic_serve_v1_Chunk, _nomic_serve_v1_Chunk__Output>
        Chunks: MessageTypeDefinition<_nomic_serve_v1_Chunks, _nomic_serve_v1_Chunks__Output>
        ColorData: MessageTypeDefinition<_nomic_serve_v1_ColorData, _nomic_serve_v1_ColorData__Output>
        CreateEmbeddingsRequest: MessageTypeDefinition<_nomic_serve_v1_CreateEmbeddingsRequest, _nomic_serve_v1_CreateEmbeddingsRequest__Output>
        CreateEmbeddingsResponse: MessageTypeDefinition<_nomic_serve_v1_CreateEmbeddingsResponse, _nomic_serve_v1_CreateEmbeddingsResponse__Output>
        DominantColor: MessageTypeDefinition<_nomic_serve_v1_DominantColor, _nomic_serve_v1_DominantColor__Output>
        EmbedBatchRequest: MessageTypeDefinition<_nomic_serve_v1_EmbedBatchRequest, _nomic_serve_v1_EmbedBatchRequest__Output>
        EmbedBatchResponse: MessageTypeDefinition<_nomic_serve_v1_EmbedBatchResponse, _nomic_serve_v1_EmbedBatchResponse__Output>
        EmbedListRequest: MessageTypeDefinition<_nomic_serve_v1_EmbedListRequest, _nomic_serve_v1_EmbedListRequest__Output>
        EmbedListResponse: MessageTypeDefinition<_nomic_serve_v1_EmbedListResponse, _nomic_serve_v1_EmbedListResponse__Output>
        EmbedQueryRequest: MessageTypeDefinition<_nomic_serve_v1_EmbedQueryRequest, _nomic_serve_v1_EmbedQueryRequest__Output>
        EmbedQueryResponse: MessageTypeDefinition<_nomic_serve_v1_EmbedQueryResponse, _nomic_serve_v1_EmbedQueryResponse__Output>
        EmbedRequest: MessageTypeDefinition<_nomic_serve_v1_EmbedRequest, _nomic_serve_v1_EmbedRequest__Output>
        EmbedResponse: MessageTypeDefinition<_nomic_serve_v1_EmbedResponse, _nomic_serve_v1_EmbedResponse__Output>
        EmbeddingData: MessageTypeDefinition<_nomic_serve_v1_EmbeddingData, _nomic_serve_v1_EmbeddingData__Output>
        /**
         * EmbeddingService serves text and image embeddings that share one vector space
         * (nomic-embed-text-v1.5 and nomic-embed-vision-v1.5), plus image statistics.
         * 
         * Every RPC is also reachable as the original JSON API through the Envoy
         * transcoder: the `google.api.http` rules below carry the original paths.
         * Enum-like request values (`prefix`, `averaging_method`) are plain lowercase
         * strings so that the original JSON bodies parse unchanged; an unknown value is
         * INVALID_ARGUMENT naming the allowed ones.
         */
        EmbeddingService: SubtypeConstructor<typeof grpc.Client, _nomic_serve_v1_EmbeddingServiceClient> & { service: _nomic_serve_v1_EmbeddingServiceDefinition }
        EmbeddingUsage: MessageTypeDefinition<_nomic_serve_v1_EmbeddingUsage, _nomic_serve_v1_EmbeddingUsage__Output>
        HealthRequest: MessageTypeDefinition<_nomic_serve_v1_HealthRequest, _nomic_serve_v1_HealthRequest__Output>
        HealthResponse: MessageTypeDefinition<_nomic_serve_v1_HealthResponse, _nomic_serve_v1_HealthResponse__Output>
        ImageEmbedListRequest: MessageTypeDefinition<_nomic_serve_v1_ImageEmbedListRequest, _nomic_serve_v1_ImageEmbedListRequest__Output>
        ImageEmbedListResponse: MessageTypeDefinition<_nomic_serve_v1_ImageEmbedListResponse, _nomic_serve_v1_ImageEmbedListResponse__Output>
        ImageEmbedRequest: MessageTypeDefinition<_nomic_serve_v1_ImageEmbedRequest, _nomic_serve_v1_ImageEmbedRequest__Output>
        ImageEmbedResponse: MessageTypeDefinition<_nomic_serve_v1_ImageEmbedResponse, _nomic_serve_v1_ImageEmbedResponse__Output>
        ImageStatsRequest: MessageTypeDefinition<_nomic_serve_v1_ImageStatsRequest, _nomic_serve_v1_ImageStatsRequest__Output>
        ImageStatsResponse: MessageTypeDefinition<_nomic_serve_v1_ImageStatsResponse, _nomic_serve_v1_ImageStatsResponse__Output>
        InfoRequest: MessageTypeDefinition<_nomic_serve_v1_InfoRequest, _nomic_serve_v1_InfoRequest__Output>
        InfoResponse: MessageTypeDefinition<_nomic_serve_v1_InfoResponse, _nomic_serve_v1_InfoResponse__Output>
        ItemError: MessageTypeDefinition<_nomic_serve_v1_ItemError, _nomic_serve_v1_ItemError__Output>
        Limits: MessageTypeDefinition<_nomic_serve_v1_Limits, _nomic_serve_v1_Limits__Output>
        ModelInfo: MessageTypeDefinition<_nomic_serve_v1_ModelInfo, _nomic_serve_v1_ModelInfo__Output>
        PackedEmbedding: MessageTypeDefinition<_nomic_serve_v1_PackedEmbedding, _nomic_serve_v1_PackedEmbedding__Output>
        PackedEmbeddings: MessageTypeDefinition<_nomic_serve_v1_PackedEmbeddings, _nomic_serve_v1_PackedEmbeddings__Output>
        Quantization: MessageTypeDefinition<_nomic_serve_v1_Quantization, _nomic_serve_v1_Quantization__Output>
        QuantizationRange: MessageTypeDefinition<_nomic_serve_v1_QuantizationRange, _nomic_serve_v1_QuantizationRange__Output>
        Scheduler: MessageTypeDefinition<_nomic_serve_v1_Scheduler, _nomic_serve_v1_Scheduler__Output>
        SimilarityInput: MessageTypeDefinition<_nomic_serve_v1_SimilarityInput, _nomic_serve_v1_SimilarityInput__Output>
        SimilarityRequest: MessageTypeDefinition<_nomic_serve_v1_SimilarityRequest, _nomic_serve_v1_SimilarityRequest__Output>
        SimilarityResponse: MessageTypeDefinition<_nomic_serve_v1_SimilarityResponse, _nomic_serve_v1_SimilarityResponse__Output>
      }
    }
  }
}

