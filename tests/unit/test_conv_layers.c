/* test_conv_layers.c: Conv1D, MaxPooling1D, GlobalAveragePooling1D,
 * GlobalMaxPooling1D/2D, DepthwiseConv2D, SeparableConv2D, ZeroPadding2D and
 * UpSampling2D.
 *
 * Each layer's forward is checked against PyTorch's values on fixed inputs
 * and weights (tests/unit/ref/conv_layers_ref.py, pasted below; inputs and
 * weights made by pat() on both sides), at inference and in training mode,
 * in float32 within 2e-5 and, for the convolutions, in mixed_bfloat16
 * within bf16's rounding; every parameter's gradient in small networks
 * around the layers against finite differences, on both backends
 * (layer_check.h).  Then the grouped, dilated convolution on oneDNN
 * (onednn_conv_new_grouped) against its direct C fallback
 * (kern_gconv_*) tensor by tensor, in f32 and bf16. */
#include "runtime/nn/kernels_spatial.h"
#include "runtime/nn/onednn_conv.h"
#include "tests/unit/layer_check.h"

/* From tests/unit/ref/conv_layers_ref.py (PyTorch, double). */
static const float C1_VALID_S2_WANT[18] = { 0.0979020979f, 0.163636364f, 0.290909091f, -0.0594405594f, 0.460839161f, -0.418881119f, 0.101398601f, 0.43986014f, -0.0832167832f, -0.020979021f, 0.317482517f, 0.102097902f, -0.451048951f, 0.341958042f, 0.11958042f, -0.108391608f, 0.502797203f, -0.362937063f };
static const float C1_SAME_WANT[42] = { -0.291608392f, 0.414685315f, 0.244055944f, 0.0979020979f, 0.163636364f, 0.290909091f, -0.321678322f, 0.28951049f, -0.268531469f, -0.0594405594f, 0.460839161f, -0.418881119f, -0.0699300699f, 0.359440559f, 0.158041958f, 0.101398601f, 0.43986014f, -0.0832167832f, -0.514685315f, 0.497902098f, 0.0643356643f, -0.148251748f, 0.362237762f, -0.234965035f, -0.020979021f, 0.317482517f, 0.102097902f, 0.15034965f, 0.397902098f, -0.139160839f, -0.451048951f, 0.341958042f, 0.11958042f, -0.370629371f, 0.331468531f, -0.212587413f, -0.108391608f, 0.502797203f, -0.362937063f, -0.158041958f, 0.406993007f, 0.141258741f };
static const float C1_CAUSAL_D2_WANT[42] = { -0.255244755f, 0.495804196f, -0.168531469f, -0.160839161f, 0.394405594f, 0.0727272727f, -0.288111888f, 0.222377622f, 0.394405594f, -0.137762238f, 0.344755245f, 0.0272727273f, 0.115384615f, 0.320979021f, -0.334965035f, -0.395104895f, 0.355944056f, 0.0146853147f, -0.132867133f, 0.527272727f, -0.135664336f, -0.185314685f, 0.286013986f, 0.111188811f, -0.227272727f, 0.411888112f, -0.0566433566f, -0.0538461538f, 0.260839161f, 0.00629370629f, -0.221678322f, 0.428671329f, 0.0482517483f, 0.132867133f, 0.247552448f, -0.114685315f, -0.013986014f, 0.373426573f, 0.0531468531f, -0.433566434f, 0.499300699f, -0.506293706f };
static const float C1_SAME_D2_TANH_WANT[42] = { -0.28039607f, 0.21878305f, 0.375152026f, -0.136897299f, 0.331716048f, 0.0272659675f, 0.114875266f, 0.310391889f, -0.322975001f, -0.37575275f, 0.341636458f, 0.0146842591f, -0.13209075f, 0.483293591f, -0.134838125f, 0.0691203755f, 0.382936725f, -0.168313098f, -0.0356492223f, 0.382936725f, 0.1642333f, -0.0537941735f, 0.25508026f, 0.0062936232f, -0.218117121f, 0.404210321f, 0.048214336f, 0.13209075f, 0.242616551f, -0.114185138f, -0.0139851021f, 0.356985259f, 0.0530968703f, -0.408297515f, 0.461567016f, -0.467052409f, -0.448816123f, 0.382936725f, -0.00209789902f, -0.17713273f, 0.421036385f, 0.0153834017f };
static const float MP1_SAME_WANT[16] = { 0.369230769f, -0.0153846154f, 0.369230769f, 0.523076923f, 0.446153846f, 0.292307692f, 0.446153846f, -0.169230769f, -0.0153846154f, 0.369230769f, 0.523076923f, 0.138461538f, 0.292307692f, 0.446153846f, -0.169230769f, 0.215384615f };
static const float MP1_DEFAULT_WANT[12] = { 0.369230769f, -0.0153846154f, 0.138461538f, 0.523076923f, 0.446153846f, 0.0615384615f, -0.0153846154f, 0.369230769f, 0.523076923f, -0.0923076923f, 0.0615384615f, 0.446153846f };
static const float GAP1_WANT[4] = { 0.0505494505f, 0.00659340659f, 0.00659340659f, 0.105494505f };
static const float GMP1_WANT[4] = { 0.446153846f, 0.523076923f, 0.523076923f, 0.446153846f };
static const float GMP2_WANT[4] = { 0.491176471f, 0.432352941f, 0.491176471f, 0.491176471f };
static const float DW_WANT[120] = { -0.0165991903f, 0.122498554f, 0.674551764f, -0.125621747f, -0.0530364372f, 0.0982070561f, 0.470098323f, 0.143609023f, -0.105668016f, 0.15691151f, 0.421515327f, 0.186119144f, -0.125910931f, 0.0496240602f, 0.445806825f, 0.143609023f, -0.162348178f, 0.0253325622f, 0.702891845f, -0.125621747f, -0.227125506f, 0.0597455176f, 0.617871602f, -0.131694621f, -0.350607287f, 0.322903412f, 0.678600347f, -0.125621747f, -0.387044534f, 0.298611914f, 0.666454598f, -0.125621747f, -0.463967611f, 0.308733372f, 0.544997108f, -0.180277617f, -0.113765182f, 0.0577212261f, 0.6421631f, -0.125621747f, -0.150202429f, 0.0334297282f, 0.283863505f, -0.0102371313f, -0.239271255f, 0.0192596877f, 0.433661076f, 0.19421631f, -0.282793522f, 0.131607866f, 0.359774436f, 0.199277039f, -0.337449393f, 0.161972238f, 0.43264893f, -0.181289763f, -0.336437247f, 0.0921341816f, 0.761596298f, -0.0648930017f, -0.601619433f, 0.104279931f, 0.72313476f, -0.125621747f, -0.599595142f, 0.579988433f, 0.710989011f, -0.125621747f, -0.443724696f, 0.324927704f, 0.710989011f, -0.0183342973f, -0.480161943f, 0.185251591f, 0.686697513f, -0.125621747f, -0.0165991903f, 0.122498554f, 0.674551764f, -0.125621747f, -0.0651821862f, 0.189300174f, 0.445806825f, 0.202313476f, -0.0894736842f, 0.0739155581f, 0.457952574f, 0.143609023f, -0.125910931f, 0.0496240602f, 0.445806825f, 0.143609023f, -0.186639676f, 0.0921341816f, 0.6421631f, -0.115500289f, -0.198785425f, 0.0010410642f, 0.690746096f, -0.125621747f, -0.350607287f, 0.322903412f, 0.678600347f, -0.125621747f, -0.423481781f, 0.341122036f, 0.569288606f, -0.164083285f, -0.410323887f, 0.202458068f, 0.529814922f, 0.0292365529f, -0.118825911f, 0.0405147484f, 0.4873048f, 0.0717466744f, -0.158299595f, 0.0435511857f, 0.484268363f, -0.0304800463f };
static const float SEP_WANT[72] = { 0.0f, 0.23676236f, 0.611642743f, 0.0f, 0.0913609782f, 0.392610314f, 0.0f, 0.188383838f, 0.491759702f, 0.0401116427f, 0.00257841574f, 0.313131313f, 0.0f, 0.0158692185f, 0.555023923f, 0.0f, 0.0f, 0.527910686f, 0.0f, 0.124056353f, 0.611908559f, 0.0f, 0.0f, 0.625199362f, 0.0f, 0.289925572f, 0.488304094f, 0.0f, 0.169776715f, 0.425837321f, 0.0f, 0.180940989f, 0.429027113f, 0.0f, 0.298165869f, 0.462519936f, 0.0f, 0.0f, 0.606326422f, 0.0f, 0.289925572f, 0.488304094f, 0.0f, 0.169776715f, 0.425837321f, 0.0f, 0.180940989f, 0.429027113f, 0.0f, 0.108373206f, 0.590111643f, 0.0f, 0.0993354599f, 0.552897395f, 0.0f, 0.23676236f, 0.611642743f, 0.0f, 0.0913609782f, 0.392610314f, 0.0f, 0.195560872f, 0.467836257f, 0.0106060606f, 0.0f, 0.48112706f, 0.0f, 0.0158692185f, 0.555023923f, 0.0f, 0.0f, 0.527910686f };
static const float ZP_WANT[168] = { 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, -0.45f, -0.0382352941f, 0.373529412f, -0.214705882f, 0.197058824f, -0.391176471f, 0.0205882353f, 0.432352941f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, -0.155882353f, 0.255882353f, -0.332352941f, 0.0794117647f, 0.491176471f, -0.0970588235f, 0.314705882f, -0.273529412f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.138235294f, -0.45f, -0.0382352941f, 0.373529412f, -0.214705882f, 0.197058824f, -0.391176471f, 0.0205882353f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.432352941f, -0.155882353f, 0.255882353f, -0.332352941f, 0.0794117647f, 0.491176471f, -0.0970588235f, 0.314705882f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, -0.273529412f, 0.138235294f, -0.45f, -0.0382352941f, 0.373529412f, -0.214705882f, 0.197058824f, -0.391176471f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0205882353f, 0.432352941f, -0.155882353f, 0.255882353f, -0.332352941f, 0.0794117647f, 0.491176471f, -0.0970588235f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f };
static const float UP_NEAREST_WANT[288] = { -0.45f, -0.0382352941f, -0.45f, -0.0382352941f, -0.45f, -0.0382352941f, 0.373529412f, -0.214705882f, 0.373529412f, -0.214705882f, 0.373529412f, -0.214705882f, 0.197058824f, -0.391176471f, 0.197058824f, -0.391176471f, 0.197058824f, -0.391176471f, 0.0205882353f, 0.432352941f, 0.0205882353f, 0.432352941f, 0.0205882353f, 0.432352941f, -0.45f, -0.0382352941f, -0.45f, -0.0382352941f, -0.45f, -0.0382352941f, 0.373529412f, -0.214705882f, 0.373529412f, -0.214705882f, 0.373529412f, -0.214705882f, 0.197058824f, -0.391176471f, 0.197058824f, -0.391176471f, 0.197058824f, -0.391176471f, 0.0205882353f, 0.432352941f, 0.0205882353f, 0.432352941f, 0.0205882353f, 0.432352941f, -0.155882353f, 0.255882353f, -0.155882353f, 0.255882353f, -0.155882353f, 0.255882353f, -0.332352941f, 0.0794117647f, -0.332352941f, 0.0794117647f, -0.332352941f, 0.0794117647f, 0.491176471f, -0.0970588235f, 0.491176471f, -0.0970588235f, 0.491176471f, -0.0970588235f, 0.314705882f, -0.273529412f, 0.314705882f, -0.273529412f, 0.314705882f, -0.273529412f, -0.155882353f, 0.255882353f, -0.155882353f, 0.255882353f, -0.155882353f, 0.255882353f, -0.332352941f, 0.0794117647f, -0.332352941f, 0.0794117647f, -0.332352941f, 0.0794117647f, 0.491176471f, -0.0970588235f, 0.491176471f, -0.0970588235f, 0.491176471f, -0.0970588235f, 0.314705882f, -0.273529412f, 0.314705882f, -0.273529412f, 0.314705882f, -0.273529412f, 0.138235294f, -0.45f, 0.138235294f, -0.45f, 0.138235294f, -0.45f, -0.0382352941f, 0.373529412f, -0.0382352941f, 0.373529412f, -0.0382352941f, 0.373529412f, -0.214705882f, 0.197058824f, -0.214705882f, 0.197058824f, -0.214705882f, 0.197058824f, -0.391176471f, 0.0205882353f, -0.391176471f, 0.0205882353f, -0.391176471f, 0.0205882353f, 0.138235294f, -0.45f, 0.138235294f, -0.45f, 0.138235294f, -0.45f, -0.0382352941f, 0.373529412f, -0.0382352941f, 0.373529412f, -0.0382352941f, 0.373529412f, -0.214705882f, 0.197058824f, -0.214705882f, 0.197058824f, -0.214705882f, 0.197058824f, -0.391176471f, 0.0205882353f, -0.391176471f, 0.0205882353f, -0.391176471f, 0.0205882353f, 0.432352941f, -0.155882353f, 0.432352941f, -0.155882353f, 0.432352941f, -0.155882353f, 0.255882353f, -0.332352941f, 0.255882353f, -0.332352941f, 0.255882353f, -0.332352941f, 0.0794117647f, 0.491176471f, 0.0794117647f, 0.491176471f, 0.0794117647f, 0.491176471f, -0.0970588235f, 0.314705882f, -0.0970588235f, 0.314705882f, -0.0970588235f, 0.314705882f, 0.432352941f, -0.155882353f, 0.432352941f, -0.155882353f, 0.432352941f, -0.155882353f, 0.255882353f, -0.332352941f, 0.255882353f, -0.332352941f, 0.255882353f, -0.332352941f, 0.0794117647f, 0.491176471f, 0.0794117647f, 0.491176471f, 0.0794117647f, 0.491176471f, -0.0970588235f, 0.314705882f, -0.0970588235f, 0.314705882f, -0.0970588235f, 0.314705882f, -0.273529412f, 0.138235294f, -0.273529412f, 0.138235294f, -0.273529412f, 0.138235294f, -0.45f, -0.0382352941f, -0.45f, -0.0382352941f, -0.45f, -0.0382352941f, 0.373529412f, -0.214705882f, 0.373529412f, -0.214705882f, 0.373529412f, -0.214705882f, 0.197058824f, -0.391176471f, 0.197058824f, -0.391176471f, 0.197058824f, -0.391176471f, -0.273529412f, 0.138235294f, -0.273529412f, 0.138235294f, -0.273529412f, 0.138235294f, -0.45f, -0.0382352941f, -0.45f, -0.0382352941f, -0.45f, -0.0382352941f, 0.373529412f, -0.214705882f, 0.373529412f, -0.214705882f, 0.373529412f, -0.214705882f, 0.197058824f, -0.391176471f, 0.197058824f, -0.391176471f, 0.197058824f, -0.391176471f, 0.0205882353f, 0.432352941f, 0.0205882353f, 0.432352941f, 0.0205882353f, 0.432352941f, -0.155882353f, 0.255882353f, -0.155882353f, 0.255882353f, -0.155882353f, 0.255882353f, -0.332352941f, 0.0794117647f, -0.332352941f, 0.0794117647f, -0.332352941f, 0.0794117647f, 0.491176471f, -0.0970588235f, 0.491176471f, -0.0970588235f, 0.491176471f, -0.0970588235f, 0.0205882353f, 0.432352941f, 0.0205882353f, 0.432352941f, 0.0205882353f, 0.432352941f, -0.155882353f, 0.255882353f, -0.155882353f, 0.255882353f, -0.155882353f, 0.255882353f, -0.332352941f, 0.0794117647f, -0.332352941f, 0.0794117647f, -0.332352941f, 0.0794117647f, 0.491176471f, -0.0970588235f, 0.491176471f, -0.0970588235f, 0.491176471f, -0.0970588235f };
static const float UP_BILINEAR_WANT[288] = { -0.45f, -0.0382352941f, -0.45f, -0.0382352941f, -0.175490196f, -0.0970588235f, 0.0990196078f, -0.155882353f, 0.373529412f, -0.214705882f, 0.314705882f, -0.273529412f, 0.255882353f, -0.332352941f, 0.197058824f, -0.391176471f, 0.138235294f, -0.116666667f, 0.0794117647f, 0.157843137f, 0.0205882353f, 0.432352941f, 0.0205882353f, 0.432352941f, -0.376470588f, 0.0352941176f, -0.376470588f, 0.0352941176f, -0.185294118f, -0.0235294118f, 0.00588235294f, -0.0823529412f, 0.197058824f, -0.141176471f, 0.221568627f, -0.2f, 0.246078431f, -0.258823529f, 0.270588235f, -0.317647059f, 0.211764706f, -0.126470588f, 0.152941176f, 0.0647058824f, 0.0941176471f, 0.255882353f, 0.0941176471f, 0.255882353f, -0.229411765f, 0.182352941f, -0.229411765f, 0.182352941f, -0.204901961f, 0.123529412f, -0.180392157f, 0.0647058824f, -0.155882353f, 0.00588235294f, 0.0352941176f, -0.0529411765f, 0.226470588f, -0.111764706f, 0.417647059f, -0.170588235f, 0.358823529f, -0.146078431f, 0.3f, -0.121568627f, 0.241176471f, -0.0970588235f, 0.241176471f, -0.0970588235f, -0.0823529412f, 0.0794117647f, -0.0823529412f, 0.0794117647f, -0.141176471f, 0.103921569f, -0.2f, 0.128431373f, -0.258823529f, 0.152941176f, -0.0676470588f, 0.0941176471f, 0.123529412f, 0.0352941176f, 0.314705882f, -0.0235294118f, 0.255882353f, -0.0823529412f, 0.197058824f, -0.141176471f, 0.138235294f, -0.2f, 0.138235294f, -0.2f, 0.0647058824f, -0.273529412f, 0.0647058824f, -0.273529412f, 0.00588235294f, -0.0823529412f, -0.0529411765f, 0.108823529f, -0.111764706f, 0.3f, -0.087254902f, 0.241176471f, -0.062745098f, 0.182352941f, -0.0382352941f, 0.123529412f, -0.0970588235f, 0.0647058824f, -0.155882353f, 0.00588235294f, -0.214705882f, -0.0529411765f, -0.214705882f, -0.0529411765f, 0.138235294f, -0.45f, 0.138235294f, -0.45f, 0.0794117647f, -0.175490196f, 0.0205882353f, 0.0990196078f, -0.0382352941f, 0.373529412f, -0.0970588235f, 0.314705882f, -0.155882353f, 0.255882353f, -0.214705882f, 0.197058824f, -0.273529412f, 0.138235294f, -0.332352941f, 0.0794117647f, -0.391176471f, 0.0205882353f, -0.391176471f, 0.0205882353f, 0.432352941f, -0.155882353f, 0.432352941f, -0.155882353f, 0.373529412f, -0.214705882f, 0.314705882f, -0.273529412f, 0.255882353f, -0.332352941f, 0.197058824f, -0.0578431373f, 0.138235294f, 0.216666667f, 0.0794117647f, 0.491176471f, 0.0205882353f, 0.432352941f, -0.0382352941f, 0.373529412f, -0.0970588235f, 0.314705882f, -0.0970588235f, 0.314705882f, 0.255882353f, -0.0823529412f, 0.255882353f, -0.0823529412f, 0.197058824f, -0.141176471f, 0.138235294f, -0.2f, 0.0794117647f, -0.258823529f, 0.103921569f, -0.0676470588f, 0.128431373f, 0.123529412f, 0.152941176f, 0.314705882f, 0.0941176471f, 0.255882353f, 0.0352941176f, 0.197058824f, -0.0235294118f, 0.138235294f, -0.0235294118f, 0.138235294f, -0.0970588235f, 0.0647058824f, -0.0970588235f, 0.0647058824f, -0.155882353f, 0.00588235294f, -0.214705882f, -0.0529411765f, -0.273529412f, -0.111764706f, -0.0823529412f, -0.087254902f, 0.108823529f, -0.062745098f, 0.3f, -0.0382352941f, 0.241176471f, -0.0970588235f, 0.182352941f, -0.155882353f, 0.123529412f, -0.214705882f, 0.123529412f, -0.214705882f, -0.2f, 0.211764706f, -0.2f, 0.211764706f, -0.258823529f, 0.152941176f, -0.317647059f, 0.0941176471f, -0.376470588f, 0.0352941176f, -0.185294118f, -0.0235294118f, 0.00588235294f, -0.0823529412f, 0.197058824f, -0.141176471f, 0.221568627f, -0.2f, 0.246078431f, -0.258823529f, 0.270588235f, -0.317647059f, 0.270588235f, -0.317647059f, -0.0529411765f, 0.358823529f, -0.0529411765f, 0.358823529f, -0.111764706f, 0.3f, -0.170588235f, 0.241176471f, -0.229411765f, 0.182352941f, -0.204901961f, 0.123529412f, -0.180392157f, 0.0647058824f, -0.155882353f, 0.00588235294f, 0.0352941176f, -0.0529411765f, 0.226470588f, -0.111764706f, 0.417647059f, -0.170588235f, 0.417647059f, -0.170588235f, 0.0205882353f, 0.432352941f, 0.0205882353f, 0.432352941f, -0.0382352941f, 0.373529412f, -0.0970588235f, 0.314705882f, -0.155882353f, 0.255882353f, -0.214705882f, 0.197058824f, -0.273529412f, 0.138235294f, -0.332352941f, 0.0794117647f, -0.0578431373f, 0.0205882353f, 0.216666667f, -0.0382352941f, 0.491176471f, -0.0970588235f, 0.491176471f, -0.0970588235f };
static const float C1_WIDE_WANT[32] = { 0.334932534f, 0.53336903f, 0.470935961f, -0.243671022f, -0.991904048f, 0.272499465f, 0.928207325f, -0.0682587278f, 0.422638681f, -0.00561147997f, 0.60961662f, -0.427329193f, -0.955922039f, 0.440415507f, 0.532405226f, -0.0277789677f, -0.746776612f, 0.0888412936f, 0.576633112f, 0.412251017f, -0.177061469f, -0.275476547f, 0.9304562f, -0.515784965f, -0.745277361f, 0.222274577f, 0.146348254f, 0.418248019f, -0.692803598f, 0.340715357f, 0.982929964f, -0.0270293425f };
static const float SEP_WIDE_WANT[24] = { -0.257194572f, -0.916451234f, 0.764404306f, 0.0229502293f, 0.477904553f, -0.113424434f, -0.0908437891f, -0.391774383f, 0.940534855f, -0.461091316f, 0.38488306f, 0.251895303f, -0.644973655f, 0.0767635798f, 1.05305902f, -0.354802699f, 0.264493385f, 0.542274743f, -0.152990789f, 0.240934764f, 0.472868731f, -0.0384955081f, 0.561620105f, 0.516574429f };
static const float DW_WIDE_WANT[64] = { -0.0751037525f, 0.218604346f, 0.627339296f, 0.0979517966f, 0.368413197f, 0.0374399149f, -0.0255504386f, -0.252681277f, 0.0970587457f, 0.362771847f, -0.0671299037f, 0.481884458f, -0.0515571302f, 0.289872598f, 0.0271321891f, 0.215931713f, 0.499302877f, -0.0342582774f, 0.300571975f, -0.495397172f, 0.280854492f, -0.222911813f, 0.182940227f, 0.590289714f, -0.134434694f, 0.57560873f, -0.125275096f, 0.0193223794f, -0.579826944f, 0.162530898f, 0.533239128f, -0.190404606f, -0.405391633f, 0.0963640424f, 0.398150104f, -0.0524563145f, 0.447249144f, -0.305866384f, 0.202328529f, -0.0240486582f, 0.140607015f, 0.389856612f, 9.01622919e-05f, 0.486715484f, -0.596016799f, 0.272435857f, -0.426843735f, 0.126142751f, 0.55155058f, 0.0414408891f, 0.2242252f, -0.121131395f, 0.426417615f, -0.468326309f, 0.0524363335f, 0.549595831f, 0.00149268573f, -0.201098396f, 0.20827789f, 0.211725328f, -0.322120418f, 0.0440408178f, 0.715130039f, -0.0475597645f };

#define F32_TOL 2e-5
/* bf16 operands: x and the kernel each rounded by up to 2^-9 relative, over
 * sums of a few tens of products of values below 1. */
#define BF16_TOL 2e-2
#define N(a) (sizeof(a) / sizeof(a)[0])

/* ((i * a) % m) / m - off, as conv_layers_ref.py's pat(). */
static void pat(float *p, int n, int a, int m, double off)
{
    for (int i = 0; i < n; i++) p[i] = (float)((double)((i * a) % m) / m - off);
}

/* ---- forward against PyTorch ----------------------------------------------- */

static void test_conv1d_forward(void)
{
    float x[28], w[18 + 3];
    pat(x, 28, 5, 13, 0.4);
    pat(w, 18, 7, 11, 0.5);
    pat(w + 18, 3, 3, 5, 0.2);
    static const struct { const char *name, *layer; const float *want; size_t n; } cases[] = {
        { "Conv1D(strides = 2)", "Conv1D(3, 3, strides = 2)", C1_VALID_S2_WANT, N(C1_VALID_S2_WANT) },
        { "Conv1D(padding = \"same\")", "Conv1D(3, 3, padding = \"same\")", C1_SAME_WANT, N(C1_SAME_WANT) },
        { "Conv1D(padding = \"causal\", dilation_rate = 2)", "Conv1D(3, 3, padding = \"causal\", dilation_rate = 2)",
          C1_CAUSAL_D2_WANT, N(C1_CAUSAL_D2_WANT) },
        { "Conv1D(padding = \"same\", dilation_rate = 2, tanh)",
          "Conv1D(3, 3, padding = \"same\", dilation_rate = 2, activation = \"tanh\")", C1_SAME_D2_TANH_WANT,
          N(C1_SAME_D2_TANH_WANT) },
    };
    for (size_t k = 0; k < N(cases); k++) {
        char model[300];
        snprintf(model, sizeof model, "  Input(shape = [7, 2])\n  %s\n  Flatten()\n", cases[k].layer);
        lc_forward_check(cases[k].name, model, 2, x, w, N(w), cases[k].want, cases[k].n, 0, F32_TOL);
        lc_forward_check(cases[k].name, model, 2, x, w, N(w), cases[k].want, cases[k].n, 1, BF16_TOL);
    }
}

static void test_pool_forward(void)
{
    float x[28], img[48];
    pat(x, 28, 5, 13, 0.4);
    pat(img, 48, 7, 17, 0.45);
    const char *seq = "  Input(shape = [7, 2])\n  %s\n  Flatten()\n", *image = "  Input(shape = [3, 4, 2])\n  %s\n  Flatten()\n";
    static const struct { const char *layer; int on_image; const float *want; size_t n; } cases[] = {
        { "MaxPooling1D(3, 2, \"same\")", 0, MP1_SAME_WANT, N(MP1_SAME_WANT) },
        { "MaxPooling1D()", 0, MP1_DEFAULT_WANT, N(MP1_DEFAULT_WANT) },
        { "GlobalAveragePooling1D()", 0, GAP1_WANT, N(GAP1_WANT) },
        { "GlobalAveragePooling1D(keepdims = True)", 0, GAP1_WANT, N(GAP1_WANT) },
        { "GlobalMaxPooling1D()", 0, GMP1_WANT, N(GMP1_WANT) },
        { "GlobalMaxPooling1D(keepdims = True)", 0, GMP1_WANT, N(GMP1_WANT) },
        { "GlobalMaxPooling2D()", 1, GMP2_WANT, N(GMP2_WANT) },
        { "GlobalMaxPooling2D(keepdims = True)", 1, GMP2_WANT, N(GMP2_WANT) },
        { "ZeroPadding2D(((1, 2), (0, 3)))", 1, ZP_WANT, N(ZP_WANT) },
        { "UpSampling2D((2, 3))", 1, UP_NEAREST_WANT, N(UP_NEAREST_WANT) },
        { "UpSampling2D((2, 3), interpolation = \"bilinear\")", 1, UP_BILINEAR_WANT, N(UP_BILINEAR_WANT) },
    };
    for (size_t k = 0; k < N(cases); k++) {
        char model[300];
        snprintf(model, sizeof model, cases[k].on_image ? image : seq, cases[k].layer);
        lc_forward_check(cases[k].layer, model, 2, cases[k].on_image ? img : x, NULL, 0, cases[k].want, cases[k].n, 0,
                         F32_TOL);
    }
}

static void test_depthwise_forward(void)
{
    float x[120], dw[24 + 4], sep[36 + 12 + 3];
    pat(x, 120, 5, 19, 0.5);
    pat(dw, 24, 7, 13, 0.5);
    pat(dw + 24, 4, 3, 7, 0.3);
    pat(sep, 36, 5, 11, 0.5);
    pat(sep + 36, 12, 7, 9, 0.5);
    pat(sep + 48, 3, 2, 5, 0.3);
    const char *dw_model = "  Input(shape = [5, 6, 2])\n"
                           "  DepthwiseConv2D((2, 3), strides = (1, 2), padding = \"same\", depth_multiplier = 2)\n"
                           "  Flatten()\n";
    const char *sep_model = "  Input(shape = [5, 6, 2])\n"
                            "  SeparableConv2D(3, 3, depth_multiplier = 2, activation = \"relu\")\n  Flatten()\n";
    for (int bf16 = 0; bf16 < 2; bf16++) {
        lc_forward_check("DepthwiseConv2D", dw_model, 2, x, dw, N(dw), DW_WANT, N(DW_WANT), bf16,
                         bf16 ? BF16_TOL : F32_TOL);
        lc_forward_check("SeparableConv2D", sep_model, 2, x, sep, N(sep), SEP_WANT, N(SEP_WANT), bf16,
                         bf16 ? BF16_TOL : F32_TOL);
    }
}

/* Layers wide enough to compute in bf16 under mixed_bfloat16 (32 products
 * per output or more, or a depthwise step over 32 channels: conv_step.c's
 * rule), so the bf16 check is not f32's. */
static void test_bf16_forward(void)
{
    float x[144], w[144 + 4], img[256], sep[288 + 96 + 3], dx[576], dw[288 + 32];
    pat(x, 144, 5, 23, 0.5);
    pat(w, 144, 7, 29, 0.5);
    pat(w + 144, 4, 3, 7, 0.3);
    pat(img, 256, 5, 23, 0.5);
    pat(sep, 288, 7, 31, 0.5);
    pat(sep + 288, 96, 11, 37, 0.5);
    pat(sep + 384, 3, 2, 5, 0.3);
    pat(dx, 576, 5, 23, 0.5);
    pat(dw, 288, 7, 31, 0.5);
    pat(dw + 288, 32, 3, 7, 0.3);
    const char *c1 = "  Input(shape = [6, 12])\n  Conv1D(4, 3)\n  Flatten()\n";
    const char *dwm = "  Input(shape = [3, 3, 32])\n  DepthwiseConv2D(3, activation = \"tanh\")\n  Flatten()\n";
    const char *sp = "  Input(shape = [4, 4, 8])\n  SeparableConv2D(3, 3, depth_multiplier = 4)\n  Flatten()\n";
    for (int bf16 = 0; bf16 < 2; bf16++) {
        lc_forward_check("Conv1D over 12 channels", c1, 2, x, w, N(w), C1_WIDE_WANT, N(C1_WIDE_WANT), bf16,
                         bf16 ? BF16_TOL : F32_TOL);
        lc_forward_check("SeparableConv2D(depth_multiplier = 4) over 8 channels", sp, 2, img, sep, N(sep), SEP_WIDE_WANT,
                         N(SEP_WIDE_WANT), bf16, bf16 ? BF16_TOL : F32_TOL);
        lc_forward_check("DepthwiseConv2D over 32 channels", dwm, 2, dx, dw, N(dw), DW_WIDE_WANT, N(DW_WIDE_WANT), bf16,
                         bf16 ? BF16_TOL : F32_TOL);
    }
}

/* ---- shapes and weights -------------------------------------------------------- */

/* The weight tensors each layer declares, in Keras's get_weights() order and sizes. */
static void test_weight_shapes(void)
{
    static const struct { const char *model; int n; size_t size[3]; } cases[] = {
        { "  Input(shape = [10, 4])\n  Conv1D(6, 3)\n  Flatten()\n", 2, { 3 * 4 * 6, 6 } },
        { "  Input(shape = [10, 4])\n  Conv1D(6, 3, use_bias = False)\n  Flatten()\n", 2, { 3 * 4 * 6, 0 } },
        { "  Input(shape = [8, 8, 3])\n  DepthwiseConv2D(3, depth_multiplier = 2)\n  Flatten()\n", 2, { 3 * 3 * 3 * 2, 6 } },
        { "  Input(shape = [8, 8, 3])\n  SeparableConv2D(5, (3, 2), depth_multiplier = 2)\n  Flatten()\n", 3, { 3 * 2 * 3 * 2, 6 * 5, 5 } },
        { "  Input(shape = [8, 8, 3])\n  SeparableConv2D(5, 3, use_bias = False)\n  Flatten()\n", 3, { 3 * 3 * 3, 3 * 5, 0 } },
    };
    for (size_t k = 0; k < N(cases); k++) {
        ir_program *p = lc_compile(cases[k].model);
        trial *t = lc_expand(p, 1, 1);
        if (!CHECK(t != NULL, "weights case %zu expands", k)) {
            if (p) ir_free(p);
            continue;
        }
        size_t total = 0, nw;
        for (int j = 0; j < cases[k].n; j++) total += cases[k].size[j];
        trial_weights(t, &nw);
        CHECK(nw == total, "weights case %zu: %zu floats (want %zu, Keras's shapes)", k, nw, total);
        trial_free(t);
        ir_free(p);
    }
}

/* ---- gradients against finite differences ------------------------------------ */

static const struct { const char *name, *model; } NETS[] = {
    { "Conv1D first, valid, strides 2",
      "  Input(shape = [9, 3])\n  Conv1D(4, 3, strides = 2, activation = \"tanh\")\n  Flatten()\n  Dense(10)\n" },
    { "Conv1D causal dilated after Conv1D same",
      "  Input(shape = [8, 2])\n  Conv1D(3, 2, padding = \"same\", activation = \"relu\")\n"
      "  Conv1D(4, 3, padding = \"causal\", dilation_rate = 2, activation = \"gelu\")\n  Flatten()\n  Dense(10)\n" },
    { "MaxPooling1D and GlobalAveragePooling1D",
      "  Input(shape = [9, 2])\n  Conv1D(4, 2, activation = \"tanh\")\n  MaxPooling1D(3, 2, padding = \"same\")\n"
      "  Conv1D(3, 2, use_bias = False)\n  GlobalAveragePooling1D()\n  Dense(10)\n" },
    { "GlobalMaxPooling1D(keepdims = True)",
      "  Input(shape = [6, 3])\n  Conv1D(5, 3, activation = \"sigmoid\")\n  GlobalMaxPooling1D(keepdims = True)\n"
      "  Flatten()\n  Dense(10)\n" },
    { "DepthwiseConv2D first, same, strides 2",
      "  Input(shape = [5, 6, 3])\n  DepthwiseConv2D(3, strides = 2, padding = \"same\", depth_multiplier = 2, "
      "activation = \"tanh\")\n  Flatten()\n  Dense(10)\n" },
    { "DepthwiseConv2D after Conv2D, then GlobalMaxPooling2D",
      "  Input(shape = [6, 6, 2])\n  Conv2D(3, 2, activation = \"relu\")\n  DepthwiseConv2D((2, 3), use_bias = False)\n"
      "  GlobalMaxPooling2D()\n  Dense(10)\n" },
    { "SeparableConv2D first",
      "  Input(shape = [6, 5, 2])\n  SeparableConv2D(4, 3, depth_multiplier = 2, activation = \"tanh\")\n  Flatten()\n"
      "  Dense(10)\n" },
    { "SeparableConv2D after Conv2D, same, strides 2, softmax last",
      "  Input(shape = [7, 7, 1])\n  Conv2D(3, 2, activation = \"tanh\")\n"
      "  SeparableConv2D(4, 3, strides = 2, padding = \"same\")\n  Flatten()\n  Dense(10, activation = \"softmax\")\n" },
    { "ZeroPadding2D then UpSampling2D nearest",
      "  Input(shape = [4, 4, 2])\n  Conv2D(3, 2, activation = \"tanh\")\n  ZeroPadding2D(((1, 0), (2, 1)))\n"
      "  UpSampling2D((2, 1))\n  Conv2D(2, 3)\n  Flatten()\n  Dense(10)\n" },
    { "UpSampling2D bilinear then GlobalMaxPooling2D(keepdims = True)",
      "  Input(shape = [4, 3, 2])\n  Conv2D(3, 2, activation = \"tanh\")\n  UpSampling2D(interpolation = \"bilinear\")\n"
      "  Conv2D(2, 2)\n  GlobalMaxPooling2D(keepdims = True)\n  Flatten()\n  Dense(10)\n" },
    { "in a graph: Residual of separable and depthwise, Add of padded and pooled branches (average pooling: no max kinks for the differences to straddle)",
      "  Input(shape = [6, 6, 2])\n  Conv2D(4, 2, activation = \"tanh\")\n"
      "  Residual {\n    SeparableConv2D(4, 3, padding = \"same\", activation = \"tanh\")\n"
      "    DepthwiseConv2D(3, padding = \"same\")\n  }\n"
      "  Add {\n    branch { AveragePooling2D(2, padding = \"same\") }\n"
      "    branch {\n      ZeroPadding2D(((0, 1), (0, 1)))\n      Conv2D(4, 2, strides = 2)\n    }\n  }\n"
      "  GlobalAveragePooling2D()\n  Dense(10)\n" },
    { "in a graph: Concatenate of Conv1D branches",
      "  Input(shape = [8, 3])\n  Conv1D(4, 2, padding = \"same\", activation = \"tanh\")\n"
      "  Concatenate {\n    branch { Conv1D(3, 3, padding = \"causal\", dilation_rate = 2) }\n"
      "    branch {\n      MaxPooling1D(2, 1, padding = \"same\")\n      Conv1D(2, 1)\n    }\n  }\n"
      "  GlobalAveragePooling1D()\n  Dense(10)\n" },
};

static void test_gradients(void)
{
    for (size_t k = 0; k < N(NETS); k++) {
        lc_gradient_check(NETS[k].name, NETS[k].model, 0);
        if (jit_available()) lc_gradient_check(NETS[k].name, NETS[k].model, 1);
    }
}

/* ---- oneDNN's grouped convolution against the direct kernels ------------------ */

static float *randf(size_t n, uint64_t seed)
{
    float *p = malloc(sizeof(float) * (n ? n : 1));
    rng r = rng_stream(seed);
    for (size_t i = 0; i < n; i++) p[i] = rng_float(&r) * 2 - 1;
    return p;
}

static void grouped_case(const char *name, int B, int H, int W, int C, int Fo, int groups, int kh, int kw, int sh,
                         int sw, int dh, int dw, int same, kern_act act, int bf16)
{
    kern_geom g;
    if (kern_conv_geom(&g, B, H, W, C, Fo, (kh - 1) * dh + 1, (kw - 1) * dw + 1, sh, sw, same)) {
        CHECK(0, "%s: geometry", name);
        return;
    }
    g.kh = kh, g.kw = kw;
    size_t nx = (size_t)B * H * W * C, ny = (size_t)B * g.OH * g.OW * Fo, nw = (size_t)kh * kw * (C / groups) * Fo;
    float *x = randf(nx, 1), *w = randf(nw, 2), *b = randf((size_t)Fo, 3), *dy0 = randf(ny, 4);
    float *y1 = calloc(ny, 4), *y2 = calloc(ny, 4), *dy1 = malloc(ny * 4), *dy2 = malloc(ny * 4);
    float *dx1 = calloc(nx, 4), *dx2 = calloc(nx, 4), *dw1 = calloc(nw, 4), *dw2 = calloc(nw, 4);
    float *db1 = calloc((size_t)Fo, 4), *db2 = calloc((size_t)Fo, 4);
    memcpy(dy1, dy0, ny * 4), memcpy(dy2, dy0, ny * 4);
    hpt_error e;
    onednn_conv *c = onednn_conv_new_grouped(&g, groups, dh, dw, act, 1, 0, bf16, &e);
    const char *p = bf16 ? " bf16" : "";
    double tol = bf16 ? BF16_TOL : 1e-4;
    if (!CHECK(c != NULL, "%s%s: oneDNN makes the state%s%s", name, p, c ? "" : ": ", c ? "" : e.message)) goto out;
    if (bf16 && onednn_conv_forward(c, &g, x, w, 1, b, y1, NULL, &e)) {
        printf("SKIP: %s in bf16: %s\n", name, e.message);
        goto out;
    }
    if (!bf16) CHECK(onednn_conv_forward(c, &g, x, w, 1, b, y1, NULL, &e) == 0, "%s: oneDNN forward runs", name);
    kern_gconv_forward(&g, groups, dh, dw, x, w, b, y2, NULL, act);
    CHECK(lc_rel_err(y1, y2, ny) < tol, "%s%s: y (rel %.2e)", name, p, lc_rel_err(y1, y2, ny));
    /* Backward from each one's own forward output (the activation's derivative reads y). */
    CHECK(onednn_conv_backward(c, &g, x, w, 1, y1, NULL, dy1, dx1, dw1, db1, act, &e) == 0, "%s%s: oneDNN backward runs",
          name, p);
    kern_gconv_backward(&g, groups, dh, dw, x, w, y2, NULL, dy2, dx2, dw2, db2, act);
    CHECK(lc_rel_err(dx1, dx2, nx) < tol, "%s%s: dx (rel %.2e)", name, p, lc_rel_err(dx1, dx2, nx));
    CHECK(lc_rel_err(dw1, dw2, nw) < tol, "%s%s: dw (rel %.2e)", name, p, lc_rel_err(dw1, dw2, nw));
    CHECK(lc_rel_err(db1, db2, (size_t)Fo) < tol, "%s%s: db (rel %.2e)", name, p, lc_rel_err(db1, db2, (size_t)Fo));
out:
    onednn_conv_free(c);
    free(x), free(w), free(b), free(dy0), free(y1), free(y2), free(dy1), free(dy2);
    free(dx1), free(dx2), free(dw1), free(dw2), free(db1), free(db2);
}

static void test_grouped(void)
{
    for (int bf16 = 0; bf16 < 2; bf16++) {
        grouped_case("depthwise 3x3 x2, valid", 3, 7, 6, 4, 8, 4, 3, 3, 1, 1, 1, 1, 0, KERN_RELU, bf16);
        grouped_case("depthwise 2x3, same, strides 2", 2, 6, 7, 3, 3, 3, 2, 3, 2, 2, 1, 1, 1, KERN_LINEAR, bf16);
        grouped_case("2 groups, dilation 2, same", 2, 8, 9, 4, 6, 2, 3, 2, 1, 1, 2, 2, 1, KERN_TANH, bf16);
        grouped_case("1-D, dilation 3, valid", 3, 1, 15, 5, 7, 1, 1, 3, 1, 1, 1, 3, 0, KERN_SIGMOID, bf16);
        grouped_case("plain, 40 channels, strides 2", 2, 6, 6, 40, 8, 1, 3, 3, 2, 2, 1, 1, 0, KERN_LINEAR, bf16);
    }
}

int main(void)
{
    test_conv1d_forward();
    test_pool_forward();
    test_depthwise_forward();
    test_bf16_forward();
    test_weight_shapes();
    test_gradients();
    test_grouped();
    jit_shutdown();
    return check_exit();
}
