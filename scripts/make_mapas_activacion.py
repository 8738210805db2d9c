"""Write solutions/mapas_activacion/mapas_activacion.ipynb, the assignment "Mapas de activación".

The hidden tests hold their inputs and expected values as data, computed here at release
time with the course library (cnncourse.explain.cam, cnncourse.plot.upsample): at grading
time they import only NumPy and compare with plain Python arithmetic, so nothing a student
could replace (numpy.allclose, a helper cell) decides a grade.

    python scripts/make_mapas_activacion.py           # write the notebook
    python scripts/make_mapas_activacion.py --check   # exit 1 if the committed one differs

Then `python -m cnncourse.grading release mapas_activacion` and `check mapas_activacion`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
import numpy as np

from cnncourse.explain import cam
from cnncourse.plot import upsample

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "solutions" / "mapas_activacion" / "mapas_activacion.ipynb"


def r(values, digits: int = 10) -> str:
    """A nested list literal of rounded floats."""
    return repr(np.round(np.asarray(values, dtype=float), digits).tolist())


# ---- hidden inputs (small literals, independent of any random generator's version) ----
H_A = np.round(np.random.default_rng(101).uniform(0, 2, (3, 4, 5)), 2)
H_W = np.round(np.random.default_rng(102).normal(0, 1, (5, 3)), 2)
H_B = np.round(np.random.default_rng(103).normal(0, 1, 5), 2)
H_M = np.round(np.random.default_rng(104).normal(0, 1, (3, 4)), 2)
H_M2 = np.round(np.random.default_rng(105).normal(0, 1, (7, 7)), 2)
H_R = np.round(np.random.default_rng(106).normal(0, 1, (6, 9)), 2)


def softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()


EXPECTED = {
    "mu": r(H_A.mean(axis=(1, 2))),
    "probs": r(softmax(H_W @ H_A.mean(axis=(1, 2)) + H_B)),
    "probs_big": r(softmax(1000 * (H_W @ H_A.mean(axis=(1, 2))))),
    "cams": r(np.stack([cam(H_A, H_W, k) for k in range(5)])),
    "logits": r(H_W @ H_A.mean(axis=(1, 2)) + H_B),
    "up": r(upsample(H_M, (5, 9))),
    "up_rows": r(upsample(H_M2, (56, 40)).sum(axis=1)),
    "up_cols": r(upsample(H_M2, (56, 40)).sum(axis=0)),
    "up_corner": r(upsample(H_M2, (56, 40))[:3, :3]),
    "peak": repr(tuple(int(i) for i in np.unravel_index(np.argmax(H_R), H_R.shape))),
    "region": repr(np.argwhere(H_R >= 0.2 * H_R.max()).tolist()),
    "region_half": repr(np.argwhere(H_R >= 0.5 * H_R.max()).tolist()),
}

# Comparison helpers written into each hidden test: plain Python on the student's numbers
# (ndarray.tolist() gives Python floats), never a NumPy function the student could replace.
HELPERS = '''
def _numeros(x):
    """Los números de x, aplanados, como floats de Python."""
    x = x.tolist() if hasattr(x, "tolist") else x
    if isinstance(x, (list, tuple)):
        return [v for e in x for v in _numeros(e)]
    return [float(x)]  # float() always gives a real float, whatever x pretends to be


def _cerca(obtenido, esperado, tol=1e-6):
    a, b = _numeros(obtenido), _numeros(esperado)
    return len(a) == len(b) and all(-tol * (1 + (v if v > 0 else -v)) <= u - v <= tol * (1 + (v if v > 0 else -v)) for u, v in zip(a, b))
'''.strip("\n")

OWN_CODE = '''
def _ajenas(funcion):
    """Nombres de torch, scipy, skimage, cv2, PIL o cnncourse que usa la función."""
    import types as _types

    prohibidos = ("torch", "scipy", "skimage", "cv2", "PIL", "cnncourse")
    malas, vistas, pendientes = [], set(), [funcion]
    while pendientes:
        f = pendientes.pop()
        codigos = [getattr(f, "__code__", None)]
        while codigos:
            c = codigos.pop()
            if c is None or c in vistas:
                continue
            vistas.add(c)
            codigos += [k for k in c.co_consts if hasattr(k, "co_names")]
            for nombre in c.co_names:
                obj = f.__globals__.get(nombre)
                raiz = (obj.__name__ if isinstance(obj, _types.ModuleType)
                        else getattr(obj, "__module__", None) or "").split(".")[0]
                if nombre in prohibidos or raiz in prohibidos:
                    malas.append(nombre)
                elif isinstance(obj, _types.FunctionType):
                    pendientes.append(obj)
    return sorted(set(malas))
'''.strip("\n")


def md(cell_id: str, source: str):
    cell = nbformat.v4.new_markdown_cell(source.strip("\n"))
    cell.id = cell_id.replace("_", "-")
    cell.metadata = {"deletable": False, "editable": False,
                     "nbgrader": {"grade": False, "grade_id": cell_id, "locked": True,
                                  "schema_version": 3, "solution": False, "task": False}}
    return cell


def locked_code(cell_id: str, source: str):
    cell = nbformat.v4.new_code_cell(source.strip("\n"))
    cell.id = cell_id.replace("_", "-")
    cell.metadata = {"deletable": False, "editable": False,
                     "nbgrader": {"grade": False, "grade_id": cell_id, "locked": True,
                                  "schema_version": 3, "solution": False, "task": False}}
    return cell


def solution(cell_id: str, source: str):
    cell = nbformat.v4.new_code_cell(source.strip("\n"))
    cell.id = cell_id.replace("_", "-")
    cell.metadata = {"nbgrader": {"grade": False, "grade_id": cell_id, "locked": False,
                                  "schema_version": 3, "solution": True, "task": False}}
    return cell


def test(cell_id: str, points: int, visible: str, hidden: str):
    source = visible.strip("\n") + "\n### BEGIN HIDDEN TESTS\n" + hidden.strip("\n") + "\n### END HIDDEN TESTS"
    if "{{cruz_peak}}" in source:
        source = source.replace("{{cruz_peak}}", _data_cell_peak())
    for key, value in EXPECTED.items():
        source = source.replace("{{" + key + "}}", value)
    source = source.replace("{{HELPERS}}", HELPERS).replace("{{OWN_CODE}}", OWN_CODE)
    source = source.replace("{{A}}", r(H_A)).replace("{{W}}", r(H_W)).replace("{{B}}", r(H_B))
    source = source.replace("{{M}}", r(H_M)).replace("{{M2}}", r(H_M2)).replace("{{R}}", r(H_R))
    assert "{{" not in source, source
    cell = nbformat.v4.new_code_cell(source)
    cell.id = cell_id.replace("_", "-")
    cell.metadata = {"deletable": False, "editable": False,
                     "nbgrader": {"grade": True, "grade_id": cell_id, "locked": True,
                                  "points": points, "schema_version": 3, "solution": False,
                                  "task": False}}
    return cell


CELLS = []


def _data_cell_peak() -> str:
    """Where the upsampled map of the most probable class peaks, for the notebook's data."""
    source = next(c.source for c in CELLS if c.metadata["nbgrader"]["grade_id"] == "datos")
    data: dict = {}
    data["print"] = lambda *args, **kwargs: None  # the cell prints the shapes
    exec(source, data)  # noqa: S102 (our own cell)
    A, W, b = data["A"], data["W"], data["b"]
    k = int(np.argmax(W @ A.mean(axis=(1, 2)) + b))
    big = upsample(cam(A, W, k), 56)
    return repr(tuple(int(i) for i in np.unravel_index(np.argmax(big), big.shape)))

CELLS.append(md("instrucciones", r'''
# Ejercicio: mapas de activación de clase

Una red convolucional dice «esto es una cruz», pero ¿en qué parte de la imagen se fijó?
Los **mapas de activación de clase** (CAM, de Zhou et al., 2016) responden con una
imagen: dónde están las activaciones que más pesaron en esa decisión. En este ejercicio
construirás uno a mano, con NumPy, a partir de las activaciones de la última capa
convolucional y los pesos de la capa final de una red, lo ampliarás al tamaño de la
imagen y encontrarás la región que la red miró.

**Cómo trabajar**

- Escribe tu código donde pone `# ESCRIBE AQUÍ TU CÓDIGO` y borra la línea
  `raise NotImplementedError()`. No cambies el nombre ni los argumentos de las funciones.
- Usa solo NumPy. No importes `torch`, `scipy`, `skimage`, `cv2` ni otra biblioteca que
  haga el cálculo por ti: la corrección automática lo comprueba.
- Detrás de cada función hay una celda de pruebas de solo lectura. Ejecútala: si no
  muestra nada, las pruebas visibles pasan; si falla, el mensaje te dice qué esperaba.
  Al corregir se añaden pruebas ocultas con otros valores.
- Antes de entregar, reinicia el kernel y ejecuta todo (*Kernel → Restart & Run All*).

Cada parte indica en su título cuántos puntos vale.
'''))

CELLS.append(md("datos_enunciado", r'''
## Los datos

Una red pequeña clasifica imágenes de $56 \times 56$ píxeles en cuatro formas. Su última
capa convolucional produce $N = 6$ **mapas de activación** $A_1, \dots, A_6$ de
$7 \times 7$ (la imagen se ha reducido 8 veces). Después, la red hace un **promedio
global** de cada mapa y una capa completamente conectada da una puntuación por clase.

La celda siguiente define:

- `A`, de forma `(6, 7, 7)`: los seis mapas de activación, `A[n]` es el mapa $A_{n+1}$;
- `W`, de forma `(4, 6)`: los pesos de la capa final. **Ojo al orden:** como en PyTorch,
  la fila `W[k]` tiene los pesos de la clase `k`, así que el peso que los apuntes llaman
  $W_{n,k}$ (del mapa $n$ a la clase $k$) es aquí `W[k, n]`;
- `b`, de forma `(4,)`: el sesgo de cada clase;
- `CLASES`: los nombres de las clases.

Los valores están construidos para el ejercicio (cada canal se enciende en una zona de
la imagen), pero tienen la forma y el papel que tendrían en una red de verdad.
'''))

CELLS.append(locked_code("datos", r'''
import numpy as np

CLASES = ["círculo", "cuadrado", "triángulo", "cruz"]


def _mancha(fila, columna, altura, anchura=1.2, lado=7):
    """Un mapa de lado x lado con una mancha gaussiana centrada en (fila, columna)."""
    y, x = np.mgrid[0:lado, 0:lado]
    return altura * np.exp(-((y - fila) ** 2 + (x - columna) ** 2) / (2 * anchura**2))


A = np.stack([
    _mancha(1, 1, 0.9),   # A_1: arriba a la izquierda
    _mancha(1, 5, 3.0),   # A_2: arriba a la derecha
    _mancha(5, 1, 1.1),   # A_3: abajo a la izquierda
    _mancha(3, 3, 1.0),   # A_4: en el centro
    _mancha(5, 5, 0.8),   # A_5: abajo a la derecha
    _mancha(2, 5, 2.5),   # A_6: arriba a la derecha, un poco más abajo
])
W = np.array([
    # A_1   A_2   A_3   A_4   A_5   A_6
    [ 0.6, -0.4,  0.2,  0.9,  0.1, -0.5],   # círculo
    [ 0.3,  0.1,  0.8, -0.2,  0.4, -0.3],   # cuadrado
    [-0.2,  0.2,  0.1,  0.3,  0.9,  0.0],   # triángulo
    [-0.6,  2.4, -0.2, -1.2,  0.0,  1.8],   # cruz
])
b = np.array([0.05, -0.10, 0.02, -0.20])
print("A:", A.shape, " W:", W.shape, " b:", b.shape)
'''))

CELLS.append(md("parte1_enunciado", r'''
## Parte 1 · Promedio global y probabilidades (5 puntos)

El promedio global (*global average pooling*) resume cada mapa $A_n$ de $M \times M$ en
un número, su media:

$$\mu_n = \frac{1}{M^2} \sum_{x,y} A_n[x, y] .$$

La capa final combina esos promedios con los pesos de cada clase y suma el sesgo: la
puntuación (*logit*) de la clase $k$ es $z_k = \sum_n W_{n,k}\, \mu_n + b_k$, y la
función *softmax* la convierte en probabilidades,

$$s_k = \frac{e^{z_k}}{\sum_j e^{z_j}} .$$

Con puntuaciones grandes, $e^{z}$ se desborda (`np.exp(1000)` es `inf`). Como
$\frac{e^{z_k - c}}{\sum_j e^{z_j - c}}$ da lo mismo para cualquier $c$, se resta antes
el máximo: así el mayor exponente es $e^0 = 1$.

**Tarea.**

1. `promedio_global(A)`: recibe los mapas `(N, M, M)` y devuelve el vector `(N,)` de
   medias $\mu_n$.
2. `probabilidades(A, W, b)`: devuelve el vector `(K,)` de probabilidades $s_k$ (suman 1).
   Debe funcionar también con puntuaciones de cientos o miles.
'''))

CELLS.append(solution("promedio_solucion", r'''
def promedio_global(A):
    """Media de cada mapa: (N, M, M) -> (N,)."""
    ### BEGIN SOLUTION
    return A.mean(axis=(1, 2))
    ### END SOLUTION


def probabilidades(A, W, b):
    """Softmax de las puntuaciones W mu + b: vector (K,) que suma 1."""
    ### BEGIN SOLUTION
    z = W @ promedio_global(A) + b
    e = np.exp(z - z.max())
    return e / e.sum()
    ### END SOLUTION
'''))

CELLS.append(test("test_promedio", 2, r'''
# Pruebas: promedio global (2 puntos)
import numpy as np

ejemplo = np.array([[[1.0, 2.0], [3.0, 6.0]], [[0.0, 0.0], [0.0, 4.0]]])
obtenido = np.asarray(promedio_global(ejemplo))
assert obtenido.shape == (2,), (
    f"promedio_global de 2 mapas de 2x2 debería devolver un vector de forma (2,), pero "
    f"devuelve forma {obtenido.shape}: ¿promediaste sobre el eje de los canales?"
)
assert np.allclose(obtenido, [3.0, 1.0]), (
    f"las medias de los mapas [[1, 2], [3, 6]] y [[0, 0], [0, 4]] son 3 y 1, pero "
    f"promedio_global devuelve {obtenido}"
)
''', r'''
{{HELPERS}}

_A = np.array({{A}})
assert _cerca(promedio_global(_A), {{mu}}), (
    "promedio_global no da la media de cada mapa con otras activaciones de forma (3, 4, 5)"
)
'''))

CELLS.append(test("test_probabilidades", 3, r'''
# Pruebas: probabilidades con softmax (3 puntos)
import numpy as np

p = np.asarray(probabilidades(A, W, b))
assert p.shape == (4,), f"hay 4 clases: probabilidades debería devolver forma (4,), no {p.shape}"
assert abs(p.sum() - 1) < 1e-9 and (p > 0).all(), (
    f"las probabilidades deben ser positivas y sumar 1; suman {p.sum()}"
)
z = W @ A.mean(axis=(1, 2)) + b
assert np.allclose(p, np.exp(z) / np.exp(z).sum()), (
    "las probabilidades no son el softmax de z = W mu + b (¿olvidaste el sesgo b o el "
    f"promedio?); se esperaba {np.round(np.exp(z) / np.exp(z).sum(), 4)}, se obtuvo {np.round(p, 4)}"
)
grande = np.asarray(probabilidades(A, 500 * W, b))
assert np.isfinite(grande).all() and abs(grande.sum() - 1) < 1e-9, (
    "con pesos 500 veces mayores las puntuaciones pasan de 1000 y np.exp se desborda: "
    f"probabilidades devuelve {grande}. Resta el máximo de las puntuaciones antes de exp"
)
''', r'''
{{HELPERS}}

_A, _W, _b = np.array({{A}}), np.array({{W}}), np.array({{B}})
assert _cerca(probabilidades(_A, _W, _b), {{probs}}), (
    "probabilidades no da el softmax de W mu + b con otros datos (3 canales, 5 clases)"
)
assert _cerca(probabilidades(_A, 1000 * _W, 0 * _b), {{probs_big}}), (
    "probabilidades falla con puntuaciones de miles: resta el máximo antes de exp"
)
'''))

CELLS.append(md("parte2_enunciado", r'''
## Parte 2 · El mapa de activación de la clase (6 puntos)

Los pesos $W_{n,k}$ dicen cuánto aporta el mapa $n$ a la clase $k$. Si en lugar de
combinar los promedios $\mu_n$ combinamos los mapas enteros, píxel a píxel, obtenemos el
**mapa de activación de la clase** $k$:

$$M_k[x, y] = W_{1,k} A_1[x, y] + W_{2,k} A_2[x, y] + \dots + W_{N,k} A_N[x, y] .$$

Tiene el tamaño de los mapas ($7 \times 7$): cada posición dice cuánto empuja esa zona
de la imagen hacia la clase $k$. Puede ser negativo (zonas que restan), y no se recorta
ni se normaliza: queremos los valores tal cual.

Como la media es lineal, la media de $M_k$ es $\sum_n W_{n,k}\,\mu_n$: **la media del
mapa más el sesgo es exactamente la puntuación de la clase**,
$\frac{1}{M^2}\sum_{x,y} M_k[x,y] + b_k = z_k$. Es una buena comprobación.

**Tarea.** Completa `mapa_cam(A, W, k)`: devuelve el mapa $M_k$ de forma `(M, M)` para
la clase `k` (recuerda: los pesos de la clase `k` son la fila `W[k]`).
'''))

CELLS.append(solution("cam_solucion", r'''
def mapa_cam(A, W, k):
    """Mapa de activación de la clase k: suma de los mapas A[n] pesados por W[k, n]."""
    ### BEGIN SOLUTION
    return np.tensordot(W[k], A, axes=1)  # sum_n W[k, n] A[n]
    ### END SOLUTION
'''))

CELLS.append(test("test_cam", 4, r'''
# Pruebas: el mapa de activación de clase (4 puntos)
import numpy as np

A_ej = np.zeros((2, 2, 2))
A_ej[0, 0, 0] = 4.0  # el mapa 1 se enciende arriba a la izquierda
A_ej[1, 1, 1] = 2.0  # el mapa 2, abajo a la derecha
W_ej = np.array([[1.0, -1.0], [0.5, 0.5], [0.0, 3.0]])  # 3 clases, 2 mapas
esperado = {0: [[4.0, 0.0], [0.0, -2.0]], 1: [[2.0, 0.0], [0.0, 1.0]], 2: [[0.0, 0.0], [0.0, 6.0]]}
for k, bien in esperado.items():
    obtenido = np.asarray(mapa_cam(A_ej, W_ej, k))
    assert obtenido.shape == (2, 2), (
        f"mapa_cam debe devolver un mapa del tamaño de los A[n], (2, 2), no {obtenido.shape}"
    )
    assert np.allclose(obtenido, bien), (
        f"para la clase {k} (pesos W[{k}] = {W_ej[k]}) el mapa es {bien}, pero mapa_cam "
        f"devuelve {obtenido.tolist()}. ¿Usaste la fila W[k]? ¿Recortaste los negativos?"
    )
assert np.asarray(mapa_cam(A, W, 3)).shape == (7, 7), "con los datos, el mapa debe ser de 7x7"
''', r'''
{{HELPERS}}

_A, _W = np.array({{A}}), np.array({{W}})
_esperados = {{cams}}
for _k in range(5):
    assert _cerca(mapa_cam(_A, _W, _k), _esperados[_k]), (
        f"mapa_cam no es la suma de los mapas pesados por W[{_k}] con otros datos "
        "(3 mapas de 4x5, 5 clases)"
    )
'''))

CELLS.append(test("test_identidad", 2, r'''
# Pruebas: media del mapa + sesgo = puntuación de la clase (2 puntos)
import numpy as np

z = W @ A.mean(axis=(1, 2)) + b
for k, clase in enumerate(CLASES):
    media = float(np.mean(mapa_cam(A, W, k)))
    assert abs(media + b[k] - z[k]) < 1e-9, (
        f"la media del mapa de '{clase}' más su sesgo debería ser su puntuación "
        f"{z[k]:.4f}, pero da {media + b[k]:.4f}"
    )
''', r'''
{{HELPERS}}

_A, _W, _b = np.array({{A}}), np.array({{W}}), np.array({{B}})
_z = {{logits}}
for _k in range(5):
    _m = _numeros(mapa_cam(_A, _W, _k))
    assert len(_m) == 20 and _cerca([sum(_m) / len(_m) + _b.tolist()[_k]], [_z[_k]]), (
        f"con otros datos, la media del mapa de la clase {_k} más su sesgo no es su puntuación"
    )
'''))

CELLS.append(md("parte3_enunciado", r'''
## Parte 3 · Ampliar el mapa al tamaño de la imagen (5 puntos)

El mapa mide $7 \times 7$ y la imagen $56 \times 56$: para superponerlo hay que
**interpolarlo**. Usaremos la interpolación **bilineal**, la que usan PyTorch
(`interpolate(..., mode="bilinear", align_corners=False)`) y OpenCV. Se hace en una
dirección y luego en la otra; en una dimensión, de $n$ valores a $m$:

1. cada píxel de entrada es una casilla de anchura 1 con el valor en su centro; el píxel
   $i$ de salida ($i = 0, \dots, m-1$) tiene su centro en la coordenada de entrada
   $$u_i = (i + 0{,}5)\,\frac{n}{m} - 0{,}5 ,$$
   que se recorta al intervalo $[0, n - 1]$ (los bordes repiten el primer y el último
   valor);
2. con $j = \lfloor u_i \rfloor$ y $t = u_i - j$, el valor es
   $(1 - t)\,v_j + t\,v_{j+1}$ (si $j = n - 1$, es $v_{n-1}$).

Ejemplo: de `[0, 1]` a 4 valores, $u = (-0{,}25;\ 0{,}25;\ 0{,}75;\ 1{,}25)$, que
recortados son $(0;\ 0{,}25;\ 0{,}75;\ 1)$: el resultado es `[0, 0.25, 0.75, 1]`.

Una forma cómoda de programarlo: esos pesos forman una matriz $P$ de $m \times n$ (en
cada fila, $1 - t$ en la columna $j$ y $t$ en la $j + 1$), y ampliar un mapa $M$ en las
dos direcciones es $P_{\text{filas}}\, M\, P_{\text{columnas}}^{T}$.

**Tarea.** Completa `ampliar(M, alto, ancho)`: devuelve el mapa interpolado de forma
`(alto, ancho)`.
'''))

CELLS.append(solution("ampliar_solucion", r'''
def ampliar(M, alto, ancho):
    """Interpolación bilineal (centros de píxel alineados) de M a (alto, ancho)."""
    ### BEGIN SOLUTION
    def pesos(n, m):
        u = np.clip((np.arange(m) + 0.5) * n / m - 0.5, 0, n - 1)
        j = np.floor(u).astype(int)
        t = u - j
        P = np.zeros((m, n))
        P[np.arange(m), j] += 1 - t
        P[np.arange(m), np.minimum(j + 1, n - 1)] += t
        return P

    M = np.asarray(M, dtype=float)
    return pesos(M.shape[0], alto) @ M @ pesos(M.shape[1], ancho).T
    ### END SOLUTION
'''))

CELLS.append(test("test_ampliar", 5, r'''
# Pruebas: interpolación bilineal (5 puntos)
import numpy as np

obtenido = np.asarray(ampliar(np.array([[0.0, 1.0]]), 1, 4))
assert obtenido.shape == (1, 4), f"ampliar([[0, 1]], 1, 4) debe tener forma (1, 4), no {obtenido.shape}"
assert np.allclose(obtenido, [[0, 0.25, 0.75, 1]]), (
    f"ampliar([[0, 1]], 1, 4) debería ser [[0, 0.25, 0.75, 1]] (centros de píxel "
    f"alineados, bordes recortados), pero da {obtenido.tolist()}"
)
dos = np.asarray(ampliar(np.array([[0.0, 4.0], [8.0, 12.0]]), 4, 4))
assert np.allclose(dos, [[0, 1, 3, 4], [2, 3, 5, 6], [6, 7, 9, 10], [8, 9, 11, 12]]), (
    "ampliar([[0, 4], [8, 12]], 4, 4) debería interpolar en filas y en columnas:\n"
    "[[0, 1, 3, 4], [2, 3, 5, 6], [6, 7, 9, 10], [8, 9, 11, 12]]; da\n" f"{dos}"
)
constante = np.asarray(ampliar(np.full((7, 7), 2.5), 56, 56))
assert constante.shape == (56, 56) and np.allclose(constante, 2.5), (
    "un mapa constante debe seguir siendo constante (y de 56x56) al ampliarlo"
)
assert np.allclose(ampliar(np.eye(3), 3, 3), np.eye(3)), "ampliar al mismo tamaño no debe cambiar el mapa"
''', r'''
{{HELPERS}}

{{OWN_CODE}}

assert not _ajenas(ampliar), f"ampliar debe programarse con NumPy; usa {_ajenas(ampliar)}"
_M, _M2 = np.array({{M}}), np.array({{M2}})
assert _cerca(ampliar(_M, 5, 9), {{up}}), "ampliar falla al pasar un mapa de 3x4 a 5x9"
_g = np.asarray(ampliar(_M2, 56, 40))
assert _g.shape == (56, 40), "ampliar(mapa 7x7, 56, 40) debe tener forma (56, 40)"
assert _cerca(_g[:3, :3], {{up_corner}}) and _cerca(_g.sum(axis=1), {{up_rows}}, 1e-6) and _cerca(_g.sum(axis=0), {{up_cols}}, 1e-6), (
    "ampliar falla al pasar un mapa de 7x7 a 56x40 (alto y ancho distintos)"
)
'''))

CELLS.append(md("parte4_enunciado", r'''
## Parte 4 · ¿Dónde miró la red? (4 puntos)

Con el mapa ampliado podemos señalar la zona de la imagen que más pesó en la decisión:

- el **punto máximo**: la fila y la columna del píxel con el valor más alto (si hay
  empate, el primero recorriendo por filas, como hace `np.argmax`);
- la **región**: los píxeles cuyo valor es al menos el 20 % del máximo, la regla de Zhou
  et al. para delimitar el objeto, $M[x, y] \ge 0{,}2 \cdot \max M$. Si el máximo no es
  positivo, no hay evidencia a favor de la clase y la región está vacía.

**Tarea.**

1. `punto_maximo(M)`: devuelve la tupla `(fila, columna)` del máximo, dos `int`.
2. `region_mirada(M, fraccion=0.2)`: devuelve una máscara booleana de la forma de `M`,
   `True` en los píxeles de la región.
'''))

CELLS.append(solution("region_solucion", r'''
def punto_maximo(M):
    """(fila, columna) del valor máximo de M."""
    ### BEGIN SOLUTION
    fila, columna = np.unravel_index(np.argmax(M), np.shape(M))
    return int(fila), int(columna)
    ### END SOLUTION


def region_mirada(M, fraccion=0.2):
    """Máscara booleana de los píxeles con M >= fraccion * max(M) (vacía si max(M) <= 0)."""
    ### BEGIN SOLUTION
    M = np.asarray(M, dtype=float)
    if M.max() <= 0:
        return np.zeros(M.shape, dtype=bool)
    return M >= fraccion * M.max()
    ### END SOLUTION
'''))

CELLS.append(test("test_punto", 2, r'''
# Pruebas: el punto máximo (2 puntos)
import numpy as np

M_ej = np.array([[0.0, 1.0, 2.0], [3.0, 0.5, 9.0]])
obtenido = punto_maximo(M_ej)
assert tuple(obtenido) == (1, 2), (
    f"el máximo de [[0, 1, 2], [3, 0.5, 9]] está en la fila 1, columna 2: punto_maximo "
    f"debería devolver (1, 2), pero devuelve {obtenido!r}. ¿Devolviste (x, y) en vez de "
    "(fila, columna)?"
)
assert all(type(v) is int for v in obtenido), "punto_maximo debe devolver dos int"
''', r'''
_R = np.array({{R}})
_p = punto_maximo(_R)
assert tuple(int(v) for v in _p) == {{peak}} and len(_p) == 2, (
    f"punto_maximo falla en un mapa de 6x9 (alto y ancho distintos): devuelve {_p!r}"
)
'''))

CELLS.append(test("test_region", 2, r'''
# Pruebas: la región mirada (2 puntos)
import numpy as np

M_ej = np.array([[10.0, 2.0, 1.9], [-3.0, 5.0, 0.0]])
obtenido = np.asarray(region_mirada(M_ej))
esperado = np.array([[True, True, False], [False, True, False]])
assert obtenido.shape == M_ej.shape and obtenido.dtype == bool, (
    f"region_mirada debe devolver una máscara booleana de forma {M_ej.shape}, "
    f"no {obtenido.dtype} de forma {obtenido.shape}"
)
assert (obtenido == esperado).all(), (
    f"con máximo 10, la región son los valores >= 0.2 · 10 = 2: {esperado.tolist()}; "
    f"region_mirada da {obtenido.tolist()}"
)
''', r'''
_R = np.array({{R}})
_reg = np.asarray(region_mirada(_R))
assert _reg.shape == (6, 9) and [[int(i), int(j)] for i, j in zip(*np.nonzero(_reg))] == {{region}}, (
    "region_mirada falla en un mapa de 6x9 con valores negativos"
)
_reg = np.asarray(region_mirada(_R, fraccion=0.5))
assert [[int(i), int(j)] for i, j in zip(*np.nonzero(_reg))] == {{region_half}}, (
    "region_mirada no usa el argumento fraccion"
)
assert not np.asarray(region_mirada(-1 - np.abs(_R))).any(), (
    "si el máximo del mapa no es positivo, la región debe estar vacía"
)
'''))

CELLS.append(md("final_enunciado", r'''
## Parte 5 · Todo junto (2 puntos)

La celda siguiente usa tus funciones con los datos del principio: la clase más probable,
su mapa, el mapa ampliado a la imagen de $56 \times 56$ y la región que la red miró.
Ejecútala y mira el dibujo: de azul (poco) a rojo (mucho), como en el artículo.
'''))

CELLS.append(locked_code("todo_junto", r'''
p = probabilidades(A, W, b)
k = int(np.argmax(p))
mapa = mapa_cam(A, W, k)
grande = ampliar(mapa, 56, 56)
fila, columna = punto_maximo(grande)
region = region_mirada(grande)
print(f"clase más probable: {CLASES[k]} ({100 * p[k]:.1f} %)".replace(".", ","))
print(f"punto máximo: fila {fila}, columna {columna}; la región ocupa el {100 * region.mean():.0f} % de la imagen")

try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
if plt is not None:
    fig, ejes = plt.subplots(1, 3, figsize=(10, 3.4))
    ejes[0].imshow(mapa, cmap="jet")
    ejes[0].set_title(f"mapa de '{CLASES[k]}' (7x7)")
    ejes[1].imshow(grande, cmap="jet")
    ejes[1].plot(columna, fila, "w+", markersize=14, markeredgewidth=2)
    ejes[1].set_title("ampliado a 56x56")
    ejes[2].imshow(region, cmap="gray")
    ejes[2].set_title("región: >= 20 % del máximo")
    for eje in ejes:
        eje.set_xticks([])
        eje.set_yticks([])
    plt.show()
'''))

CELLS.append(test("test_donde_miro", 2, r'''
# Pruebas: ¿dónde miró la red? (2 puntos)
import numpy as np

p = np.asarray(probabilidades(A, W, b))
k = int(np.argmax(p))
assert CLASES[k] == "cruz", f"con los datos, la clase más probable es 'cruz', no '{CLASES[k]}'"
grande = np.asarray(ampliar(mapa_cam(A, W, k), 56, 56))
fila, columna = punto_maximo(grande)
assert fila < 28 and columna >= 28, (
    f"los mapas A_2 y A_6, con pesos grandes para 'cruz', se encienden arriba a la derecha; "
    f"el máximo del mapa ampliado debería estar ahí, pero está en ({fila}, {columna})"
)
region = np.asarray(region_mirada(grande))
assert region[:28, 28:].mean() > 0.5 and region[28:, :28].mean() < 0.05, (
    "la región mirada debería cubrir sobre todo el cuadrante superior derecho"
)
''', r'''
_grande = np.asarray(ampliar(mapa_cam(A, W, 3), 56, 56))
assert tuple(punto_maximo(_grande)) == {{cruz_peak}}, (
    f"el máximo del mapa de 'cruz' ampliado está en {{cruz_peak}}, no en {punto_maximo(_grande)}"
)
'''))

CELLS.append(md("entrega", r'''
## Antes de entregar

Reinicia el kernel y ejecuta todas las celdas. Si todas las pruebas visibles pasan,
guarda el cuaderno y entrégalo con el mismo nombre de archivo.

En el capítulo de explicabilidad del curso, las mismas cuentas se hacen con una red real
preentrenada en ImageNet (`cnncourse.explain.cam`), y se comprueba si la región que
señala el mapa coincide con el objeto.
'''))


def build() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = CELLS
    nb.metadata = {"cnncourse": {"order": 6},
                   "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed notebook")
    args = parser.parse_args(argv)
    text = nbformat.writes(build()) + "\n"
    if args.check:
        same = NOTEBOOK.exists() and NOTEBOOK.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{NOTEBOOK} differs: run scripts/make_mapas_activacion.py")
        return 0 if same else 1
    NOTEBOOK.parent.mkdir(parents=True, exist_ok=True)
    NOTEBOOK.write_text(text, encoding="utf-8")
    print(f"wrote {NOTEBOOK.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
