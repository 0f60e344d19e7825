"""The real Netherlands Landsat dataset: fetched once with pooch, checked, cached.

A 256 x 256 window of 30 m pixels (7.68 km a side) near Wageningen, the Netherlands,
in ETRS89-LAEA (EPSG:3035): 256 points labelled with CORINE level-3 classes for
2015-2020, quarterly GLAD Landsat NDVI and SWIR1 composites (Dec 2014 - Dec 2020) and
terrain (elevation, slope). It is the toy dataset of scikit-map (MIT licence), the
library behind the 2021 ODSE workshop, pinned at one commit.

:func:`load_netherlands` (or ``load_dataset("netherlands")``) downloads the files the
dataset needs with `pooch <https://www.fatiando.org/pooch>`_, checks every file
against the SHA-256 digest pinned in this module, keeps them in a cache folder, and
returns the same :class:`~odse_tutorial.datasets.Dataset` object as the bundled,
simulated data. Later calls find the files in the cache, check them again, and do not
download anything; a cached file that fails its check is fetched again.

Two environment variables change where the files come from and where they go:

``ODSE_DATA_CACHE``
    The cache folder of odse-tutorial downloads (default: ``pooch.os_cache("odse-tutorial")``,
    e.g. ``~/.cache/odse-tutorial`` on Linux). This dataset goes into its
    ``nl-landsat/`` subfolder.
``ODSE_NETHERLANDS_SOURCE``
    Where to fetch from instead of the pinned upstream URL (:data:`UPSTREAM_URL`): a
    base URL (``https://...``), a local folder or a ``file://`` URL holding the same
    relative paths (``samples/samples.gpkg``, ``ndvi/filled/...``). Files from any
    source must match the pinned digests.

Seasons. The composites cover quarters named by their dates, ``_s_YYYYMMDD_YYYYMMDD_``
in the file names. The four quarters that end in a year are that year's seasons:

========  =========================================
season    period
========  =========================================
winter    2 December (previous year) - 20 March
spring    21 March - 24 June
summer    25 June - 12 September
autumn    13 September - 1 December
========  =========================================

so the layers of 2019 are ``ndvi_winter`` (2 Dec 2018 - 20 Mar 2019), ...,
``swir1_autumn`` (13 Sep - 1 Dec 2019). A sample's ``date`` is 1 January of its
year and only stands for the year.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from odse_tutorial.classes import _DEFAULT_PALETTE, ClassTable
from odse_tutorial.datasets import Dataset, SampleColumns, _read_samples

__all__ = [
    "CACHE_ENV",
    "REGISTRY",
    "SEASONS",
    "SOURCE_ENV",
    "TILE",
    "UPSTREAM_URL",
    "NetherlandsDataError",
    "fetch_netherlands",
    "load_netherlands",
    "netherlands_cache_dir",
]

logger = logging.getLogger(__name__)

#: The pinned upstream location (scikit-map at commit fe412d7, ``skmap/data/toy/``).
UPSTREAM_URL = (
    "https://raw.githubusercontent.com/openlandmap/scikit-map/"
    "fe412d7491be00d33bf0031c45f0f325a52f0c97/skmap/data/toy/"
)
#: Environment variable: the cache folder of odse-tutorial downloads.
CACHE_ENV = "ODSE_DATA_CACHE"
#: Environment variable: fetch from this base URL, local folder or file:// URL instead.
SOURCE_ENV = "ODSE_NETHERLANDS_SOURCE"
#: The subfolder of the cache folder that holds this dataset.
CACHE_SUBFOLDER = "nl-landsat"
#: The id of the dataset's only tile.
TILE = "wageningen"
#: Seasons in feature order, with the (start, end) month-day of their quarter.
SEASONS: dict[str, tuple[str, str]] = {
    "winter": ("1202", "0320"),
    "spring": ("0321", "0624"),
    "summer": ("0625", "0912"),
    "autumn": ("0913", "1201"),
}
#: Side of the recommended spatial CV blocks, in metres (see :func:`load_netherlands`).
CV_BLOCK_SIZE = 1500.0

_SAMPLES = "samples/samples.gpkg"
_STATIC = {
    "elevation": "static/elev.lowestmode_gedi.eml_mf_30m_s_20000101_20181231_nl_epsg.3035_v0.3.tif",
    "slope": "static/slope.percent_gedi.eml_m_30m_s_20000101_20181231_nl_epsg.3035_v0.3.tif",
}
_BAND_FOLDERS = {"ndvi": {"filled": "ndvi/filled/", "gappy": "ndvi/gappy/"}, "swir1": "swir1/"}
_PERIOD = re.compile(r"_s_(\d{4})(\d{4})_(\d{4})(\d{4})_")
_MIN_CV_COUNT = 5  # classes with fewer samples than this are named in the notes

# SHA-256 of every upstream file, in `sha256sum` format (identical to the mirror's SHA256SUMS).
_SHA256SUMS = """\
87da4b85a6f45f5e5fdbb27ca1236f0e02df91a218c4d5df5a9bd847ccdd9689  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20141202_20150320_nl_epsg.3035_v20230720.tif
9d95b7e9a88044c7b84bc0a6d006bb6bc0722832eb04ca182b8fd8da3936a0e2  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20150321_20150624_nl_epsg.3035_v20230720.tif
8618ff1d4a6247e7bb711274eafd1260870f056b9d5a82099e65505f7ee195fd  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20150625_20150912_nl_epsg.3035_v20230720.tif
602a67e3cd6bc18a521f2a88bb36741a4375c7313b54034747142d2eb8cb587c  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20150913_20151201_nl_epsg.3035_v20230720.tif
9d609706f4722345c83acd10f97175abacfcdeac8a205b50103ddaa028d28023  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20151202_20160320_nl_epsg.3035_v20230720.tif
af4daedeb698f1cde65c0b5d355c10f9bf9464f7f9a4d17cbd8d7a0c4fd2e497  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20160321_20160624_nl_epsg.3035_v20230720.tif
07755c4bf9d5ab019301d29c42f6fe76f96eca7fbbce3e2d512435226222dcf4  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20160625_20160912_nl_epsg.3035_v20230720.tif
dc2b9596194b068a01f12190e3b94cc638cc2fba719804a07f5035233738a02f  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20160913_20161201_nl_epsg.3035_v20230720.tif
da46153700c82bae1635c465fd7f358cb8b6ff801d9b23a47978c103bc8394a0  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20161202_20170320_nl_epsg.3035_v20230720.tif
7bc6edf3add0a0f35dc6cb858d0cb0486bd0a7bd58ebe096f5ab4c8f7419132e  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20170321_20170624_nl_epsg.3035_v20230720.tif
024539b2142ac97506157eb0f63be0f7a3f2dc064d264c22ce18b71c57268b95  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20170625_20170912_nl_epsg.3035_v20230720.tif
f7dff7f6a0911a1169e460249384ab1a8018d22a83a476373acc5576802e7e00  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20170913_20171201_nl_epsg.3035_v20230720.tif
3e7cf034ed14568ea2677da141e77ec97825cd71f2bf94db2d213bdb02111608  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20171202_20180320_nl_epsg.3035_v20230720.tif
a5d45da0c54bdb0f4c2e6eed57b005a07242754750afa75fbf9e35a703a356a5  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20180321_20180624_nl_epsg.3035_v20230720.tif
e6446d28c4a15c12a2844054a9ac2f2aa44e025a3eb65c9b4a2fc256048eb231  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20180625_20180912_nl_epsg.3035_v20230720.tif
e1e3fdc8223c024c46e6dc2089941109448fcd2fbed8757a5a4d37f4598515e5  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20180913_20181201_nl_epsg.3035_v20230720.tif
4de8402f990ce505b797ef08ebee78a93b51b4d5457a8ce606926b993c7a4e5f  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20181202_20190320_nl_epsg.3035_v20230720.tif
3d0d46b09a4f63e5190cd7e7f50dd15fa19b61ce786255217ff7d4f325b16208  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20190321_20190624_nl_epsg.3035_v20230720.tif
a76850e612c11c39c266363e24571763d3707283f726630ccb229ebc9f4965d9  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20190625_20190912_nl_epsg.3035_v20230720.tif
0bba241f7a4b1f4fda5d9cdeb6cc8cf4a93808d9eb5ab7bd7a5228cd753f9194  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20190913_20191201_nl_epsg.3035_v20230720.tif
154e140b6947f428b61d0bd00b1e9c11018971a45a1f8e32ae225e5cc5e867a5  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20191202_20200320_nl_epsg.3035_v20230720.tif
63d0768f3cb468de42933a4bd63eab50e5291bc97107f1bad7d6a5bf283bbceb  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20200321_20200624_nl_epsg.3035_v20230720.tif
38cb0bc94f06b2c6ad32eca91f8cde900df22bf46bd742da5e95e69958860b4e  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20200625_20200912_nl_epsg.3035_v20230720.tif
1572b7d9260872367a36cc1cc5bff712061ececd62456b5526ed7a416da56f3b  ndvi/filled/ndvi_landsat.ard1_p50_30m_s_20200913_20201201_nl_epsg.3035_v20230720.tif
ec5ab93e3d85a143bf9caf6ba32e1c65397d4b12f6553e7d6d2f5f88468ffcb3  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20141202_20150320_nl_epsg.3035_v20230720.tif
f916234b0e9acbf58b25daa7563a40e6c3c84cd1cddc116e07bb251c3b706329  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20150321_20150624_nl_epsg.3035_v20230720.tif
68d21a0c007335f5bf85f2be57626c0fb34bfcc4a89b3608827e170b3c383291  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20150625_20150912_nl_epsg.3035_v20230720.tif
1e4f2805b87eb969331706761fe1ee814cb028e5103e437cf907de097ee445ed  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20150913_20151201_nl_epsg.3035_v20230720.tif
dcaf1c7b19c5115a24db3f7df6d4fadc33e147201e01c0f69a907fb2a334f926  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20151202_20160320_nl_epsg.3035_v20230720.tif
675b66f64f359745fb87ca034b8f55968161528bfbd93ccf35464842ec935277  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20160321_20160624_nl_epsg.3035_v20230720.tif
04ae433a6a266f10835fcad951e674baf9d5e26e91a9257f34754c681077d970  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20160625_20160912_nl_epsg.3035_v20230720.tif
97db3141f374d41fc676cd8280498bbb4d4f9e4a2dd00a6ee1426a9f29debc94  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20160913_20161201_nl_epsg.3035_v20230720.tif
efec52e69b6ba25ca8963a054a0f93b027e8ed09824b338957dd04398eb925e9  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20161202_20170320_nl_epsg.3035_v20230720.tif
0017871cdbc30b96cd9164217083fac3ff8ab158d43e9bb04fe66392ab2a327f  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20170321_20170624_nl_epsg.3035_v20230720.tif
f0d7325b4d4191686f07f02ee3d0d5fe0ea3eb4d7547026deafb2ebf8dfd8a4f  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20170625_20170912_nl_epsg.3035_v20230720.tif
c9cd4cc30620cfd7113532371f6c2c1b4d27978a5f22710fde29c0be1886bedb  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20170913_20171201_nl_epsg.3035_v20230720.tif
cfd137520b4d4d1147760cd6ef61dfa45b71ce2f02c0d048d49a3a9d7ec04f43  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20171202_20180320_nl_epsg.3035_v20230720.tif
98fc1f646f6ce5b228efa17e62dded8b6c6e4c0c1e4a19def2c54e12828c4f84  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20180321_20180624_nl_epsg.3035_v20230720.tif
5d3724d3b19aa86426003764f6d2d6f0bae503270db322489e3e03910e90a7e7  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20180625_20180912_nl_epsg.3035_v20230720.tif
bfc0aee8b53fea515e9c6c8eb8cde8d859f3ef34df21ed74cbd1e4e2eeeb59a9  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20180913_20181201_nl_epsg.3035_v20230720.tif
5ae1f51ab950f194ac183d53c7f8f65d5b91b67624d7727d0ff6c8ef2e96bc89  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20181202_20190320_nl_epsg.3035_v20230720.tif
d2efc1f12fa8a50f9d8eaa64d076e5f072f1228c1cc4e9c10a388bd98b014050  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20190321_20190624_nl_epsg.3035_v20230720.tif
76e2f2fd72d4fc3e5de074aea4888f9c22c32cc3934399d1143cd652f1690545  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20190625_20190912_nl_epsg.3035_v20230720.tif
9997ba2a93ba2a581d520603fbb6e3867547d2759b291a11a8c3bd1e59487d94  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20190913_20191201_nl_epsg.3035_v20230720.tif
e987087d42c0f58e1ce46bff56df401f7a6a25f01cec590534ba0d71e4881e5e  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20191202_20200320_nl_epsg.3035_v20230720.tif
f3c544115a54161646d36cfa6043c7891a6b33c348dd839f7d02a0b59728f40b  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20200321_20200624_nl_epsg.3035_v20230720.tif
d186b670f5361ee73aee9b71c4c892eeee26c83ae584e9296b24b2c5efbe1370  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20200625_20200912_nl_epsg.3035_v20230720.tif
9618472e9af4aedebb54f9046242c60ac8b6324f9def9a89c48474f1af8a766a  ndvi/gappy/ndvi_landsat.ard1_p50_30m_s_20200913_20201201_nl_epsg.3035_v20230720.tif
225cc04e150d2c7811e025164a0caae0709340add213bfb2d1416a5da35b9b22  samples/samples.gpkg
af8b7b5df34293421e68e7b9410cb7fd4ef973c5626c1b7e38391380f6a7921d  static/elev.lowestmode_gedi.eml_mf_30m_s_20000101_20181231_nl_epsg.3035_v0.3.tif
c3cf6580b6f8a785d03929863bf49aff1a27fea640db0482dd30432b980fb14e  static/slope.percent_gedi.eml_m_30m_s_20000101_20181231_nl_epsg.3035_v0.3.tif
3d8b3d6fc9daf86204aed5834cb9801e47e5f3867151c8eee9dfcdcc2cea61e0  swir1/swir1_landsat.ard1_p50_30m_s_20141202_20150320_nl_epsg.3035_v20230720.tif
08344f66f818b77df158978e6d55cf61e03bd5ba2719bff11f35d20f69a6b506  swir1/swir1_landsat.ard1_p50_30m_s_20150321_20150624_nl_epsg.3035_v20230720.tif
0556a97689d5806c26259d5b371a08146849f495f64885a4cff59e1fa0fca5eb  swir1/swir1_landsat.ard1_p50_30m_s_20150625_20150912_nl_epsg.3035_v20230720.tif
0f08a022a00fe9429096c46e857168bfbf68d4421e1fea3709d0243e2c797efe  swir1/swir1_landsat.ard1_p50_30m_s_20150913_20151201_nl_epsg.3035_v20230720.tif
0cedd9cc8b9d245327df210a3024ca9fb1be7a12b677bfbd401c79823d7b3c5b  swir1/swir1_landsat.ard1_p50_30m_s_20151202_20160320_nl_epsg.3035_v20230720.tif
06b6bc441a0fb53b6cf2771a228649aada88ecf1059ce4c0efcf87dfcefc4bac  swir1/swir1_landsat.ard1_p50_30m_s_20160321_20160624_nl_epsg.3035_v20230720.tif
4ca403608d8887610a7401e8793d0f7ef7cf58050baa80927069d52ac07be874  swir1/swir1_landsat.ard1_p50_30m_s_20160625_20160912_nl_epsg.3035_v20230720.tif
8a889c071756828075da813b30032644f52dfb035ca1fb53c994c3a4b048c168  swir1/swir1_landsat.ard1_p50_30m_s_20160913_20161201_nl_epsg.3035_v20230720.tif
c677e7041e5720f5beb7ab63cbf19b72846796437389e2af590bcecfe4841c0f  swir1/swir1_landsat.ard1_p50_30m_s_20161202_20170320_nl_epsg.3035_v20230720.tif
f91b2ee31957978210599428f9a95af66424613799f4260b398883797f8dd827  swir1/swir1_landsat.ard1_p50_30m_s_20170321_20170624_nl_epsg.3035_v20230720.tif
4d86d3e482a813daefd81ff10240e822b0cf872007cc2af99451c37e6df9174c  swir1/swir1_landsat.ard1_p50_30m_s_20170625_20170912_nl_epsg.3035_v20230720.tif
658b3c45ba4858394d331fc971c647b5c74e0764899c06073afc8a4585bd62b4  swir1/swir1_landsat.ard1_p50_30m_s_20170913_20171201_nl_epsg.3035_v20230720.tif
5cb8ef5b6e600000ad55e0a18d3d7fcc7777e8a70fbea5cc60ec21e0850dd036  swir1/swir1_landsat.ard1_p50_30m_s_20171202_20180320_nl_epsg.3035_v20230720.tif
aae2549d741893d9da5caeb16ee900e796478317ed3b8321bcf11ea197993922  swir1/swir1_landsat.ard1_p50_30m_s_20180321_20180624_nl_epsg.3035_v20230720.tif
ac777a6faa7dd259e5d7bf44f4c07fa28cb680076bd37be316dfcd208d8e6906  swir1/swir1_landsat.ard1_p50_30m_s_20180625_20180912_nl_epsg.3035_v20230720.tif
bde4273a7bfdcfe2e74af2a0b80bfd2c74178bece6446562f0624c2731326bac  swir1/swir1_landsat.ard1_p50_30m_s_20180913_20181201_nl_epsg.3035_v20230720.tif
1801a2af80f7d34c7da1525358988d816f6cd68d4e97475253f77b22b3bbe015  swir1/swir1_landsat.ard1_p50_30m_s_20181202_20190320_nl_epsg.3035_v20230720.tif
4ee61d6fc311df659449eed907d4f1a1937aa8c4613d7cd9d307eac7c7d2d511  swir1/swir1_landsat.ard1_p50_30m_s_20190321_20190624_nl_epsg.3035_v20230720.tif
79d9686b95a8c849104d1ace2bb925a0aa93abb19050fd098bcae0f52ffb62f8  swir1/swir1_landsat.ard1_p50_30m_s_20190625_20190912_nl_epsg.3035_v20230720.tif
cf0a251516b707a40c59d139d1581fc8ac0f09ab631172296879f32e24dc4dd2  swir1/swir1_landsat.ard1_p50_30m_s_20190913_20191201_nl_epsg.3035_v20230720.tif
5e1e47682ac2f20e24f9fc8bc827937d77ed420a19edad833c2c1ea51d67ba0f  swir1/swir1_landsat.ard1_p50_30m_s_20191202_20200320_nl_epsg.3035_v20230720.tif
a822ae601f6c7d77a382805812e59033e117311e9712a3cb5b522c22c16c6a10  swir1/swir1_landsat.ard1_p50_30m_s_20200321_20200624_nl_epsg.3035_v20230720.tif
8bb9d9bdebb1b78d2a1552413b1c346c6289eb408fe14dc0aacc4b44cd5b08f5  swir1/swir1_landsat.ard1_p50_30m_s_20200625_20200912_nl_epsg.3035_v20230720.tif
ef3274a498e997caa7468a280513410dab595ac3e0768fb640f62be34287eeb2  swir1/swir1_landsat.ard1_p50_30m_s_20200913_20201201_nl_epsg.3035_v20230720.tif
"""

#: Relative path -> SHA-256 of every file of the dataset.
REGISTRY: dict[str, str] = {
    path: digest
    for digest, path in (line.split(maxsplit=1) for line in _SHA256SUMS.strip().splitlines())
}

# Official CORINE Land Cover level-3 colours.
_CLC_COLOURS = {
    "111": "#e6004d", "112": "#ff0000", "121": "#cc4df2", "122": "#cc0000", "123": "#e6cccc",
    "124": "#e6cce6", "131": "#a600cc", "132": "#a64d00", "133": "#ff4dff", "141": "#ffa6ff",
    "142": "#ffe6ff", "211": "#ffffa8", "212": "#ffff00", "213": "#e6e600", "221": "#e68000",
    "222": "#f2a64d", "223": "#e6a600", "231": "#e6e64d", "241": "#ffe6a6", "242": "#ffe64d",
    "243": "#e6cc4d", "244": "#f2cca6", "311": "#80ff00", "312": "#00a600", "313": "#4dff00",
    "321": "#ccf24d", "322": "#a6ff80", "323": "#a6e64d", "324": "#a6f200", "331": "#e6e6e6",
    "332": "#cccccc", "333": "#ccffcc", "334": "#000000", "335": "#a6e6cc", "411": "#a6a6ff",
    "412": "#4d4dff", "421": "#ccccff", "422": "#e6e6ff", "423": "#a6a6e6", "511": "#00ccf2",
    "512": "#80f2e6", "521": "#00ffa6", "522": "#a6ffe6", "523": "#e6f2ff",
}  # fmt: skip


class NetherlandsDataError(OSError):
    """A file of the Netherlands dataset could not be fetched, or failed its checksum."""


# -- sources and cache -------------------------------------------------------------------
@dataclass(frozen=True)
class _Source:
    """Where files are fetched from: a base URL or a local folder."""

    location: str  # base URL ending in "/", or a folder path
    is_folder: bool
    origin: str  # how it was chosen, for messages

    def describe(self) -> str:
        what = "local folder" if self.is_folder else "base URL"
        return f"{what} {self.location} ({self.origin})"


def _resolve_source(source: str | os.PathLike | None) -> _Source:
    if source is not None:
        origin = "the source argument"
    elif os.environ.get(SOURCE_ENV):
        source, origin = os.environ[SOURCE_ENV], f"set by {SOURCE_ENV}"
    else:
        return _Source(UPSTREAM_URL, False, "the pinned upstream URL")
    text = os.fspath(source)
    if text.startswith("file:"):
        parsed = urllib.parse.urlparse(text)
        return _Source(urllib.request.url2pathname(parsed.path), True, origin)
    if "://" in text:
        return _Source(text.rstrip("/") + "/", False, origin)
    return _Source(str(Path(text).expanduser().resolve()), True, origin)


def netherlands_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """The folder that holds (or will hold) the Netherlands files.

    ``<cache>/nl-landsat``, where ``<cache>`` is ``cache_dir``, else the
    ``ODSE_DATA_CACHE`` environment variable, else ``pooch.os_cache("odse-tutorial")``.
    """
    if cache_dir is None:
        cache_dir = os.environ.get(CACHE_ENV) or None
    if cache_dir is None:
        import pooch

        cache_dir = pooch.os_cache("odse-tutorial")
    return Path(cache_dir).expanduser() / CACHE_SUBFOLDER


@contextlib.contextmanager
def _quiet_pooch() -> Iterator[None]:
    """Silence pooch's one INFO line per file (this module logs a summary instead)."""
    import pooch

    pooch_logger = pooch.get_logger()
    level = pooch_logger.level
    pooch_logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        pooch_logger.setLevel(level)


def _copy_from(folder: Path, fname: str):
    """A pooch downloader that copies ``fname`` from a local folder."""

    def download(url: str, output_file, pooch) -> None:  # pooch's downloader signature
        shutil.copyfile(folder / fname, output_file)

    return download


def _files_needed(ndvi: str) -> list[str]:
    prefixes = (_BAND_FOLDERS["ndvi"][ndvi], _BAND_FOLDERS["swir1"])
    quarterly = [p for p in REGISTRY if p.startswith(prefixes)]
    return [_SAMPLES, *_STATIC.values(), *sorted(quarterly)]


def _check_ndvi(ndvi: str) -> None:
    if ndvi not in _BAND_FOLDERS["ndvi"]:
        raise ValueError(
            f"ndvi must be 'filled' (gap-filled composites, the default) or 'gappy' "
            f"(before gap filling), got {ndvi!r}."
        )


def fetch_netherlands(
    *,
    ndvi: Literal["filled", "gappy"] = "filled",
    cache_dir: str | os.PathLike | None = None,
    source: str | os.PathLike | None = None,
) -> dict[str, Path]:
    """Make sure the files of the Netherlands dataset are in the cache, checked.

    Each file is looked up in the cache folder and its SHA-256 compared with the
    pinned digest (:data:`REGISTRY`); a missing file, or a cached file that fails the
    check, is fetched from the source into a temporary file, checked, and only then
    moved to its final name. A file that fails its check is never used.

    Parameters
    ----------
    ndvi : {"filled", "gappy"}, default "filled"
        Which NDVI composites: gap-filled, or before gap filling (about 1 % nodata).
        SWIR1, terrain and samples are always fetched.
    cache_dir : path-like, optional
        The cache folder (default: ``ODSE_DATA_CACHE``, else
        ``pooch.os_cache("odse-tutorial")``); files go to its ``nl-landsat/`` subfolder.
    source : str or path-like, optional
        A base URL, local folder or ``file://`` URL to fetch from (default:
        ``ODSE_NETHERLANDS_SOURCE``, else :data:`UPSTREAM_URL`).

    Returns
    -------
    dict
        Relative path (as upstream, e.g. ``"samples/samples.gpkg"``) -> cached file.

    Raises
    ------
    NetherlandsDataError
        Naming the file that could not be fetched or failed its checksum, and the fix.
    """
    import pooch

    _check_ndvi(ndvi)
    folder = netherlands_cache_dir(cache_dir)
    src = _resolve_source(source)
    fnames = _files_needed(ndvi)
    pup = pooch.create(
        path=folder,
        base_url=Path(src.location).as_uri() if src.is_folder else src.location,
        registry={name: REGISTRY[name] for name in fnames},
        retry_if_failed=0 if src.is_folder else 2,
    )
    # HTTP(S) with a timeout, so that a stalled connection fails instead of hanging;
    # other protocols (ftp://, ...) get pooch's default downloader.
    web = src.location.startswith(("http://", "https://"))
    http = pooch.HTTPDownloader(timeout=60) if web else None
    paths: dict[str, Path] = {}
    fetched = 0
    start = time.perf_counter()
    with _quiet_pooch():
        for fname in fnames:
            target = folder / fname
            cached_bad = target.exists() and pooch.file_hash(str(target)) != REGISTRY[fname]
            if cached_bad:
                logger.warning(
                    "The cached file %s is corrupted or incomplete (SHA-256 mismatch); "
                    "fetching it again from the %s.",
                    target,
                    src.describe(),
                )
            needs_fetch = cached_bad or not target.exists()
            downloader = _copy_from(Path(src.location), fname) if src.is_folder else http
            try:
                paths[fname] = Path(pup.fetch(fname, downloader=downloader))
            except (ValueError, OSError) as err:
                raise _fetch_error(fname, target, src, err, cached_bad) from err
            fetched += needs_fetch
    logger.info(
        "Netherlands data: %d files checked in %s (%d fetched from the %s) in %.1f s.",
        len(paths),
        folder,
        fetched,
        src.describe(),
        time.perf_counter() - start,
    )
    return paths


def _fetch_error(
    fname: str, target: Path, src: _Source, err: Exception, cached_bad: bool
) -> NetherlandsDataError:
    """A message naming the file, what went wrong, and the fix."""
    where = str(Path(src.location) / fname) if src.is_folder else src.location + fname
    upstream = src.location == UPSTREAM_URL and not src.is_folder
    elsewhere = (
        f"drop the source argument to download from {UPSTREAM_URL}"
        if src.origin == "the source argument"
        else f"unset {SOURCE_ENV} to download from {UPSTREAM_URL}"
    )
    intro = (
        f"The cached file {target} is corrupted or incomplete (SHA-256 mismatch) and was not "
        "used; fetching it again failed. "
        if cached_bad
        else ""
    )
    if isinstance(err, ValueError) and "hash" in str(err).lower():
        problem = (
            f"{fname!r} from the {src.describe()} failed its SHA-256 check (expected "
            f"{REGISTRY[fname]}): that copy is corrupted or incomplete; it was discarded, "
            "not used."
        )
        fix = (
            "try again (a download cut off in transit); if it fails again, the upstream file "
            f"has changed: set {SOURCE_ENV} to an intact copy of the dataset."
            if upstream
            else f"replace {where} with an intact copy (its SHA-256 is listed in the "
            f"dataset's SHA256SUMS), or {elsewhere}."
        )
    elif src.is_folder and isinstance(err, FileNotFoundError):
        missing_folder = not Path(src.location).is_dir()
        problem = f"{fname!r} is missing from the {src.describe()}" + (
            ": that folder does not exist." if missing_folder else "."
        )
        fix = (
            f"copy the complete dataset there (every file of its SHA256SUMS, here {where}), "
            f"or {elsewhere}."
        )
    elif src.is_folder:
        problem = f"Could not copy {fname!r} from {where} into the cache: {err}."
        fix = (
            f"check that {where} is readable and that {target.parent} is writable (or set "
            f"{CACHE_ENV} to another cache folder)."
        )
    else:
        problem = f"Could not download {fname!r} from {where}: {err}."
        fix = (
            f"check the internet connection (and that {target.parent} is writable), or set "
            f"{SOURCE_ENV} to a local copy of the dataset (a folder with the same relative "
            "paths)."
        )
    return NetherlandsDataError(f"Netherlands dataset: {intro}{problem} Fix: {fix}")


# -- the layer catalogue ------------------------------------------------------------------
def _season_of(fname: str) -> tuple[int, str]:
    """(year, season) of a quarterly composite, from the period in its file name."""
    match = _PERIOD.search(fname)
    if match is None:
        raise ValueError(f"No period _s_YYYYMMDD_YYYYMMDD_ in the file name {fname!r}.")
    start_year, start_day, end_year, end_day = match.groups()
    for season, (first, last) in SEASONS.items():
        if (start_day, end_day) == (first, last):
            expected_start = int(end_year) - 1 if season == "winter" else int(end_year)
            if int(start_year) == expected_start:
                return int(end_year), season
    raise ValueError(
        f"The period {start_year}{start_day}-{end_year}{end_day} of {fname!r} is not one "
        f"of the quarters {SEASONS}."
    )


def _year_layers(paths: dict[str, Path], ndvi: str) -> dict[int, dict[str, Path]]:
    """``year -> {band_season -> path}``: the four quarters ending in each year."""
    found: dict[int, dict[str, Path]] = {}
    for band in ("ndvi", "swir1"):
        folder = _BAND_FOLDERS["ndvi"][ndvi] if band == "ndvi" else _BAND_FOLDERS[band]
        for fname, path in paths.items():
            if fname.startswith(folder):
                year, season = _season_of(fname)
                name = f"{band}_{season}"
                if name in found.setdefault(year, {}):
                    raise ValueError(
                        f"Two files for {name} in {year}: {found[year][name]}, {path}."
                    )
                found[year][name] = path
    order = [f"{band}_{season}" for season in SEASONS for band in ("ndvi", "swir1")]
    per_year = {}
    for year in sorted(found):
        missing = [name for name in order if name not in found[year]]
        if missing:
            raise ValueError(f"Year {year} lacks the quarterly layers {missing}.")
        per_year[year] = {name: found[year][name] for name in order}
    return per_year


def _classes(samples_path: Path, columns: SampleColumns):
    samples = _read_samples(samples_path)
    counts = samples[columns.class_code].value_counts()
    codes = sorted(str(c) for c in counts.index)
    names = []
    for code in codes:
        labels = samples.loc[samples[columns.class_code] == code, columns.class_name].unique()
        if len(labels) > 1:
            logger.warning("Class %s has several labels %s; using the first.", code, list(labels))
        names.append(str(labels[0]))
    spare = iter(c for c in _DEFAULT_PALETTE if c not in _CLC_COLOURS.values())
    colours = [_CLC_COLOURS.get(code) or next(spare) for code in codes]
    rare = {str(code): int(n) for code, n in counts.items() if n < _MIN_CV_COUNT}
    return ClassTable(codes, names, colours), dict(sorted(rare.items())), len(samples)


def load_netherlands(
    *,
    ndvi: Literal["filled", "gappy"] = "filled",
    cache_dir: str | os.PathLike | None = None,
    source: str | os.PathLike | None = None,
) -> Dataset:
    """The real Netherlands Landsat dataset, fetched once and cached (see the module doc).

    Parameters
    ----------
    ndvi : {"filled", "gappy"}, default "filled"
        The gap-filled NDVI composites (default: no nodata at the samples), or those
        before gap filling (about 1 % of pixels are nodata, yet 34 of the 256 samples
        sit on a gap in some quarter; the overlay drops them). The layer names are the
        same (``ndvi_winter``, ...), so models fitted on one variant read the other.
    cache_dir, source : str or path-like, optional
        Override ``ODSE_DATA_CACHE`` and ``ODSE_NETHERLANDS_SOURCE``
        (see :func:`fetch_netherlands`).

    Returns
    -------
    Dataset
        ``name="netherlands"``, one tile ``"wageningen"``, years 2015-2020. Per-year
        layers ``ndvi_winter, swir1_winter, ndvi_spring, ..., swir1_autumn`` (the four
        quarters ending in the year), then static ``elevation`` and ``slope`` (the
        2000-2018 terrain, used for every year). Samples: columns ``code`` (CORINE
        code as text), ``label``, ``date`` (1 January of the survey year), ``target``;
        no weight, location or tile column. ``cv_block_size`` is 1,500 m: beyond that
        distance, neither the labels nor summer NDVI are more alike than at random.

    Raises
    ------
    NetherlandsDataError
        A file could not be fetched or failed its checksum (naming it, and the fix).
    """
    paths = fetch_netherlands(ndvi=ndvi, cache_dir=cache_dir, source=source)
    columns = SampleColumns(
        class_code="code", date="date", class_name="label", weight=None, location=None, tile=None
    )
    samples_path = paths[_SAMPLES]
    classes, rare, n_samples = _classes(samples_path, columns)
    per_year = _year_layers(paths, ndvi)
    years = sorted(per_year)
    description = (
        f"Real data: a 256 x 256 window of 30 m pixels (7.68 km a side) near Wageningen, "
        f"the Netherlands, in ETRS89-LAEA (EPSG:3035). {n_samples} points labelled with "
        f"{len(classes)} CORINE level-3 classes for {years[0]}-{years[-1]}; quarterly GLAD "
        f"Landsat NDVI ({'gap-filled' if ndvi == 'filled' else 'before gap filling'}) and "
        f"SWIR1 composites; terrain (elevation, slope). The toy dataset of scikit-map (MIT "
        f"licence), pinned at commit fe412d7. The labels were read from a published "
        f"land-cover map, not observed in the field."
    )
    notes = (
        "Labels come from another map: each point's class was read from a published "
        "land-cover map of its year (itself made with machine learning), not observed in "
        "the field. Accuracy measured against them is agreement with that map, not "
        "accuracy against ground truth.",
        f"Rare classes: {', '.join(f'{c} {classes.name_of(c)} ({n})' for c, n in rare.items())} "
        f"have fewer than {_MIN_CV_COUNT} points, too few to cross-validate. Drop or merge "
        "them first, e.g. odse_tutorial.labels.drop_rare_classes(samples['code'], "
        f"min_count={_MIN_CV_COUNT}).",
        "Class codes are text ('231', not 231), as in the source; the class table, models "
        "and maps keep them as text.",
        "The terrain layers (elevation, slope) describe 2000-2018; they are used unchanged "
        "for the 2019 and 2020 samples (terrain hardly changes).",
        "A sample's date is 1 January of its survey year and only stands for the year: a "
        "sample of year Y reads the four quarterly composites that end in Y (winter = "
        "2 Dec of Y-1 to 20 Mar, spring = 21 Mar - 24 Jun, summer = 25 Jun - 12 Sep, "
        "autumn = 13 Sep - 1 Dec).",
        f"One 7.68 km window with clustered points: random cross-validation is optimistic. "
        f"Use blocks of {CV_BLOCK_SIZE:,.0f} m (cv_block_size). The samples have no location "
        "or tile column: every point is its own location (location_column=None).",
        "The samples, the terrain and the composites write the same ETRS89-LAEA projection "
        "three different ways (an unnamed LAEA, EPSG:3035, IGNF:ETRS89LAEA); the package "
        "compares CRSs by meaning, so nothing is reprojected.",
    )
    return Dataset(
        name="netherlands",
        samples_path=samples_path,
        classes=classes,
        columns=columns,
        static_layers={TILE: {name: paths[fname] for name, fname in _STATIC.items()}},
        year_layers={TILE: per_year},
        cv_block_size=CV_BLOCK_SIZE,
        description=description,
        notes=notes,
    )
