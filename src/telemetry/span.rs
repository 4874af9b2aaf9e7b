//! A request's place in its trace, as the pipeline hands it down: [`Trace`]
//! is a parent to start children under (cloning it ends nothing), [`Span`]
//! owns one span and ends it when dropped. With tracing off both are empty and
//! every call on them is a branch on `None`: no allocation, no clock read.

use std::sync::Arc;

use http::HeaderMap;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, TraceId, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracer;

#[derive(Clone, Default)]
pub struct Trace(Option<Arc<Point>>);

struct Point {
    cx: Context,
    tracer: SdkTracer,
}

impl Trace {
    /// A new span under this one; its attributes are only built when tracing is on.
    pub fn child(
        &self,
        name: &'static str,
        kind: SpanKind,
        attributes: impl FnOnce() -> Vec<KeyValue>,
    ) -> Span {
        match &self.0 {
            None => Span::default(),
            Some(p) => Span::start(&p.tracer, &p.cx, name, kind, attributes()),
        }
    }

    /// Puts this span's context on a request as `traceparent` (and
    /// `tracestate`), replacing whatever the client sent. Nothing when off.
    pub fn inject(&self, headers: &mut HeaderMap) {
        if let Some(p) = &self.0 {
            super::propagation::inject(&p.cx, headers);
        }
    }
}

/// One span; ended when dropped.
#[derive(Default)]
pub struct Span(Trace);

impl Span {
    pub(super) fn start(
        tracer: &SdkTracer,
        parent: &Context,
        name: &'static str,
        kind: SpanKind,
        attributes: Vec<KeyValue>,
    ) -> Span {
        let span = tracer
            .span_builder(name)
            .with_kind(kind)
            .with_attributes(attributes)
            .start_with_context(tracer, parent);
        Span(Trace(Some(Arc::new(Point {
            cx: parent.with_span(span),
            tracer: tracer.clone(),
        }))))
    }

    /// The parent for this span's children.
    pub fn trace(&self) -> &Trace {
        &self.0
    }

    pub fn is_on(&self) -> bool {
        self.0 .0.is_some()
    }

    /// The trace id, for the access log; None when tracing is off.
    pub fn trace_id(&self) -> Option<TraceId> {
        self.0
             .0
            .as_ref()
            .map(|p| p.cx.span().span_context().trace_id())
    }

    /// Sets attributes, built only when tracing is on.
    pub fn set(&self, attributes: impl FnOnce() -> Vec<KeyValue>) {
        if let Some(p) = &self.0 .0 {
            p.cx.span().set_attributes(attributes());
        }
    }

    /// Marks the span failed with a closed-set description (an error code, an
    /// outcome), never a message that could carry request data.
    pub fn fail(&self, what: &'static str) {
        if let Some(p) = &self.0 .0 {
            p.cx.span().set_status(Status::error(what));
        }
    }

    pub fn rename(&self, name: impl FnOnce() -> String) {
        if let Some(p) = &self.0 .0 {
            p.cx.span().update_name(name());
        }
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        if let Some(p) = &self.0 .0 {
            p.cx.span().end();
        }
    }
}
