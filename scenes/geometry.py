"""Procedural geometry for scenes: lit, vertex-coloured meshes in metres (Z up, Y forward).

A `Mesh` collects triangles from a few primitives (box, prism between two points, sphere, cone,
quad) and turns them into one `GeomNode`, so a whole table or a whole spider is one draw call.
Polygon counts stay modest because scenes may be rendered in software (p3tinydisplay).
"""

from __future__ import annotations

import math

from panda3d.core import (
    Geom,
    GeomNode,
    GeomTriangles,
    GeomVertexData,
    GeomVertexFormat,
    GeomVertexWriter,
    NodePath,
)

Color = tuple[float, float, float, float] | tuple[float, float, float]
Vec = tuple[float, float, float]


def rgba(color: Color) -> tuple[float, float, float, float]:
    """An RGBA tuple from an RGB or RGBA tuple."""
    return (color[0], color[1], color[2], color[3] if len(color) > 3 else 1.0)


def _sub(a: Vec, b: Vec) -> Vec:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _cross(a: Vec, b: Vec) -> Vec:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _norm(a: Vec) -> Vec:
    n = math.sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]) or 1.0
    return (a[0] / n, a[1] / n, a[2] / n)


class Mesh:
    """Triangles with per-vertex normals and colours, built up and then turned into a node."""

    def __init__(self) -> None:
        self.verts: list[tuple[Vec, Vec, tuple[float, float, float, float]]] = []
        self.tris: list[tuple[int, int, int]] = []

    # ------------------------------------------------------------------ low level
    def _vertex(self, p: Vec, n: Vec, c: tuple[float, float, float, float]) -> int:
        self.verts.append((p, n, c))
        return len(self.verts) - 1

    def quad(self, a: Vec, b: Vec, c: Vec, d: Vec, color: Color) -> Mesh:
        """A flat quad a-b-c-d, counter-clockwise seen from the front."""
        col = rgba(color)
        n = _norm(_cross(_sub(b, a), _sub(c, a)))
        i = [self._vertex(p, n, col) for p in (a, b, c, d)]
        self.tris.append((i[0], i[1], i[2]))
        self.tris.append((i[0], i[2], i[3]))
        return self

    def tri(self, a: Vec, b: Vec, c: Vec, color: Color) -> Mesh:
        col = rgba(color)
        n = _norm(_cross(_sub(b, a), _sub(c, a)))
        i = [self._vertex(p, n, col) for p in (a, b, c)]
        self.tris.append((i[0], i[1], i[2]))
        return self

    # ------------------------------------------------------------------ primitives
    def box(self, center: Vec, size: Vec, color: Color, bottom: bool = True) -> Mesh:
        """An axis-aligned box of `size` (x, y, z) metres centred on `center`."""
        cx, cy, cz = center
        hx, hy, hz = size[0] / 2, size[1] / 2, size[2] / 2
        x0, x1, y0, y1, z0, z1 = cx - hx, cx + hx, cy - hy, cy + hy, cz - hz, cz + hz
        self.quad((x0, y0, z1), (x1, y0, z1), (x1, y1, z1), (x0, y1, z1), color)  # top
        if bottom:
            self.quad((x0, y1, z0), (x1, y1, z0), (x1, y0, z0), (x0, y0, z0), color)
        self.quad((x0, y0, z0), (x1, y0, z0), (x1, y0, z1), (x0, y0, z1), color)  # -y
        self.quad((x1, y1, z0), (x0, y1, z0), (x0, y1, z1), (x1, y1, z1), color)  # +y
        self.quad((x0, y1, z0), (x0, y0, z0), (x0, y0, z1), (x0, y1, z1), color)  # -x
        self.quad((x1, y0, z0), (x1, y1, z0), (x1, y1, z1), (x1, y0, z1), color)  # +x
        return self

    def inside_box(self, center: Vec, size: Vec, colors: dict[str, Color]) -> Mesh:
        """The inner faces of a box (a room): keys floor, ceiling, walls (or north/south/east/west)."""
        cx, cy, cz = center
        hx, hy, hz = size[0] / 2, size[1] / 2, size[2] / 2
        x0, x1, y0, y1, z0, z1 = cx - hx, cx + hx, cy - hy, cy + hy, cz - hz, cz + hz
        walls = colors.get("walls", (0.8, 0.8, 0.8))
        self.quad(
            (x0, y0, z0), (x1, y0, z0), (x1, y1, z0), (x0, y1, z0), colors.get("floor", walls)
        )
        self.quad(
            (x0, y1, z1), (x1, y1, z1), (x1, y0, z1), (x0, y0, z1), colors.get("ceiling", walls)
        )
        self.quad(
            (x1, y1, z0), (x1, y1, z1), (x0, y1, z1), (x0, y1, z0), colors.get("north", walls)
        )
        self.quad(
            (x0, y0, z0), (x0, y0, z1), (x1, y0, z1), (x1, y0, z0), colors.get("south", walls)
        )
        self.quad((x1, y0, z0), (x1, y0, z1), (x1, y1, z1), (x1, y1, z0), colors.get("east", walls))
        self.quad((x0, y1, z0), (x0, y1, z1), (x0, y0, z1), (x0, y0, z0), colors.get("west", walls))
        return self

    def prism(
        self,
        p0: Vec,
        p1: Vec,
        radius: float,
        color: Color,
        sides: int = 5,
        radius1: float | None = None,
        caps: bool = True,
    ) -> Mesh:
        """A tube (or tapered cone with `radius1`) from p0 to p1, with smooth side normals."""
        r1 = radius if radius1 is None else radius1
        axis = _sub(p1, p0)
        a = _norm(axis)
        helper = (0.0, 0.0, 1.0) if abs(a[2]) < 0.9 else (1.0, 0.0, 0.0)
        u = _norm(_cross(a, helper))
        v = _cross(a, u)
        col = rgba(color)
        ring0: list[int] = []
        ring1: list[int] = []
        for k in range(sides):
            ang = 2 * math.pi * k / sides
            ca, sa = math.cos(ang), math.sin(ang)
            n = (u[0] * ca + v[0] * sa, u[1] * ca + v[1] * sa, u[2] * ca + v[2] * sa)
            ring0.append(
                self._vertex(
                    (p0[0] + n[0] * radius, p0[1] + n[1] * radius, p0[2] + n[2] * radius), n, col
                )
            )
            ring1.append(
                self._vertex((p1[0] + n[0] * r1, p1[1] + n[1] * r1, p1[2] + n[2] * r1), n, col)
            )
        for k in range(sides):
            k2 = (k + 1) % sides
            self.tris.append((ring0[k], ring0[k2], ring1[k2]))
            self.tris.append((ring0[k], ring1[k2], ring1[k]))
        if caps:
            for ring, p, sign in ((ring0, p0, -1.0), (ring1, p1, 1.0)):
                n = (a[0] * sign, a[1] * sign, a[2] * sign)
                c = self._vertex(p, n, col)
                edge = [self._vertex(self.verts[i][0], n, col) for i in ring]
                for k in range(sides):
                    k2 = (k + 1) % sides
                    if sign > 0:
                        self.tris.append((c, edge[k], edge[k2]))
                    else:
                        self.tris.append((c, edge[k2], edge[k]))
        return self

    def cylinder(
        self,
        base: Vec,
        height: float,
        radius: float,
        color: Color,
        sides: int = 8,
        top_radius: float | None = None,
    ) -> Mesh:
        """An upright cylinder (or cone with `top_radius`) standing on `base`."""
        top = (base[0], base[1], base[2] + height)
        return self.prism(base, top, radius, color, sides, top_radius)

    def sphere(
        self, center: Vec, radius: float | Vec, color: Color, segs: int = 8, rings: int = 5
    ) -> Mesh:
        """A low-poly (ellipsoidal when `radius` is a 3-tuple) sphere."""
        rx, ry, rz = radius if isinstance(radius, tuple) else (radius, radius, radius)
        col = rgba(color)
        grid: list[list[int]] = []
        for r in range(rings + 1):
            phi = math.pi * r / rings
            row = []
            for s in range(segs + 1):
                th = 2 * math.pi * s / segs
                n = (math.sin(phi) * math.cos(th), math.sin(phi) * math.sin(th), math.cos(phi))
                p = (center[0] + n[0] * rx, center[1] + n[1] * ry, center[2] + n[2] * rz)
                row.append(self._vertex(p, _norm((n[0] / rx, n[1] / ry, n[2] / rz)), col))
            grid.append(row)
        for r in range(rings):
            for s in range(segs):
                a, b = grid[r][s], grid[r][s + 1]
                c, d = grid[r + 1][s + 1], grid[r + 1][s]
                if r > 0:
                    self.tris.append((a, d, b))
                if r < rings - 1:
                    self.tris.append((b, d, c))
        return self

    def plane(
        self, x0: float, y0: float, x1: float, y1: float, z: float, color: Color, cells: int = 16
    ) -> Mesh:
        """A flat upward-facing rectangle cut into `cells` x `cells` quads.

        For ground that reaches the horizon: fog and lighting are worked out per vertex in the
        fixed pipeline, and one quad 800 m across would be fogged by its far corners.
        """
        col = rgba(color)
        rows = []
        for j in range(cells + 1):
            y = y0 + (y1 - y0) * j / cells
            rows.append(
                [
                    self._vertex((x0 + (x1 - x0) * i / cells, y, z), (0.0, 0.0, 1.0), col)
                    for i in range(cells + 1)
                ]
            )
        for j in range(cells):
            for i in range(cells):
                a, b, c, d = rows[j][i], rows[j][i + 1], rows[j + 1][i + 1], rows[j + 1][i]
                self.tris.append((a, b, c))
                self.tris.append((a, c, d))
        return self

    def disc(self, center: Vec, radius: float, color: Color, sides: int = 16) -> Mesh:
        """A flat horizontal disc facing up."""
        col = rgba(color)
        c = self._vertex(center, (0, 0, 1), col)
        ring = [
            self._vertex(
                (
                    center[0] + radius * math.cos(2 * math.pi * k / sides),
                    center[1] + radius * math.sin(2 * math.pi * k / sides),
                    center[2],
                ),
                (0, 0, 1),
                col,
            )
            for k in range(sides)
        ]
        for k in range(sides):
            self.tris.append((c, ring[k], ring[(k + 1) % sides]))
        return self

    # ------------------------------------------------------------------ output
    @property
    def triangle_count(self) -> int:
        return len(self.tris)

    def node(self, name: str = "mesh", tile_m: float | None = None) -> NodePath:
        """A NodePath holding one GeomNode with all the triangles added so far.

        With `tile_m`, each vertex also gets texture coordinates: the position projected on the
        plane its normal faces most (a box projection), one texture repeat every `tile_m`
        metres, so a tiling material (`scenes.textures`) lies on any shape without seams
        between its faces' scale.
        """
        fmt = GeomVertexFormat.getV3n3c4() if tile_m is None else GeomVertexFormat.getV3n3c4t2()
        vdata = GeomVertexData(name, fmt, Geom.UHStatic)
        vdata.uncleanSetNumRows(len(self.verts))
        pw = GeomVertexWriter(vdata, "vertex")
        nw = GeomVertexWriter(vdata, "normal")
        cw = GeomVertexWriter(vdata, "color")
        tw = GeomVertexWriter(vdata, "texcoord") if tile_m is not None else None
        k = 1.0 / tile_m if tile_m else 1.0
        for p, n, c in self.verts:
            pw.setData3f(*p)
            nw.setData3f(*n)
            cw.setData4f(*c)
            if tw is not None:
                ax, ay, az = abs(n[0]), abs(n[1]), abs(n[2])
                if az >= ax and az >= ay:
                    tw.setData2f(p[0] * k, p[1] * k)
                elif ax >= ay:
                    tw.setData2f(p[1] * k, p[2] * k)
                else:
                    tw.setData2f(p[0] * k, p[2] * k)
        prim = GeomTriangles(Geom.UHStatic)
        if len(self.verts) > 65535:
            prim.setIndexType(Geom.NTUint32)
        for i, j, k in self.tris:
            prim.addVertices(i, j, k)
        geom = Geom(vdata)
        geom.addPrimitive(prim)
        gnode = GeomNode(name)
        gnode.addGeom(geom)
        return NodePath(gnode)
