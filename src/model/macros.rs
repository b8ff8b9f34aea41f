//! `model!` declares a wire object once: the struct, its lenient/strict deserialiser that
//! keeps unknown keys, ownership conversion and mode-aware serialisation.

macro_rules! model {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $key:literal => $field:ident : $ty:ty, )*
        }
        required(always) = [$($always:ident),*];
        required(strict) = [$($strict:ident),*];
        $(strict_check = $check:path;)?
        $(list_in_dumps = [$($list:ident),*];)?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct $name<'a> {
            $( pub $field: $crate::model::Field<$ty>, )*
            pub extra: $crate::model::Extra<'a>,
        }

        impl<'a> $crate::model::IntoOwned for $name<'a> {
            type Owned = $name<'static>;
            fn into_owned(self) -> $name<'static> {
                $name {
                    $( $field: $crate::model::IntoOwned::into_owned(self.$field), )*
                    extra: self.extra.into_owned(),
                }
            }
            fn to_owned_copy(&self) -> $name<'static> {
                $name {
                    $( $field: $crate::model::IntoOwned::to_owned_copy(&self.$field), )*
                    extra: self.extra.to_owned_copy(),
                }
            }
        }

        impl $name<'_> {
            /// Required keys (always, and in strict mode) and strict-mode checks.
            fn check(&self) -> Result<(), $crate::model::Invalid> {
                $(
                    if !self.$always.is_present() {
                        return Err($crate::model::Invalid::Missing(stringify!($always)));
                    }
                )*
                if $crate::model::is_strict() {
                    $(
                        if self.$strict.get().is_none() {
                            return Err($crate::model::Invalid::Missing(stringify!($strict)));
                        }
                    )*
                    $( $check(self).map_err($crate::model::Invalid::Other)?; )?
                }
                Ok(())
            }
        }

        impl<'a> $crate::parse::FastParse<'a> for $name<'a> {
            fn fast_parse(r: &mut $crate::parse::Reader<'a>) -> $crate::parse::FastResult<Self> {
                let mut out = $name::default();
                r.object(|r, key| {
                    match key.as_str() {
                        $( $key => out.$field = $crate::parse::FastParse::fast_parse(r)?, )*
                        _ => {
                            let value = $crate::parse::FastParse::fast_parse(r)?;
                            out.extra.0.push((key, value));
                        }
                    }
                    Ok(())
                })?;
                out.check().map_err(|_| $crate::parse::Reject)?;
                Ok(out)
            }
        }

        impl<'de: 'a, 'a> serde::Deserialize<'de> for $name<'a> {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct ObjectVisitor<'a>(std::marker::PhantomData<&'a ()>);

                impl<'de: 'a, 'a> serde::de::Visitor<'de> for ObjectVisitor<'a> {
                    type Value = $name<'a>;

                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str(concat!("a ", stringify!($name), " object"))
                    }

                    fn visit_map<M: serde::de::MapAccess<'de>>(
                        self,
                        mut map: M,
                    ) -> Result<Self::Value, M::Error> {
                        let mut out = $name::default();
                        while let Some(key) = map.next_key::<$crate::model::Text<'a>>()? {
                            match key.as_str() {
                                $( $key => out.$field = map.next_value()?, )*
                                _ => {
                                    let value = map.next_value()?;
                                    out.extra.0.push((key, value));
                                }
                            }
                        }
                        match out.check() {
                            Ok(()) => Ok(out),
                            Err($crate::model::Invalid::Missing(field)) => {
                                Err(<M::Error as serde::de::Error>::missing_field(field))
                            }
                            Err($crate::model::Invalid::Other(message)) => {
                                Err(<M::Error as serde::de::Error>::custom(message))
                            }
                        }
                    }
                }

                d.deserialize_map(ObjectVisitor(std::marker::PhantomData))
            }
        }

        impl $crate::model::Dump for $name<'_> {
            fn dump<S: serde::Serializer>(
                &self,
                s: S,
                mode: $crate::model::Mode,
            ) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap as _;
                use $crate::model::Field;
                // Lists that dumps other than lossless write as [] when null or absent, as
                // openai's models require them.
                let lists: &[&str] = &[$($(stringify!($list)),*)?];
                let mut map = s.serialize_map(None)?;
                $(
                    match &self.$field {
                        Field::Absent | Field::Null
                            if mode != $crate::model::Mode::Lossless && lists.contains(&$key) =>
                        {
                            map.serialize_entry($key, &Vec::<()>::new())?
                        }
                        Field::Absent if mode.writes_absent() => map.serialize_entry($key, &())?,
                        Field::Null if mode.writes_null() => map.serialize_entry($key, &())?,
                        Field::Value(v) => {
                            map.serialize_entry($key, &$crate::model::With(v, mode))?
                        }
                        _ => {}
                    }
                )*
                for (key, value) in &self.extra.0 {
                    map.serialize_entry(key.as_str(), value)?;
                }
                map.end()
            }
        }
    };
}
