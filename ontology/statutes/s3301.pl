/*  s3301.pl -- §3301. Rate of tax.

    s3301(E, Y, Tax)   the excise tax on employer E for calendar year Y:
                       6 percent of the total wages (§3306(b)) paid by E
                       during Y with respect to employment (§3306(c)), for
                       each category of service in which E is an employer
                       (§3306(a)).  Exact; zero if E is no employer.
*/

cites(s3301/3, '§3301', 3).
cites(s3301__wages/4, '§3301', 4).
combines(s3301__wages/4, same).

%!  s3301(+E, +Y, -Tax)
s3301(E, Y, Tax) :-
    sum_of(Cat-W, s3301__wages(E, Y, Cat, W), Wages),
    percent(6, Wages, Tax).

%!  s3301__wages(+E, +Y, ?Category, -Wages) wages of a category of service
%   for which E is an employer (as defined in §3306(a)) for the year.
s3301__wages(E, Y, Cat, W) :-
    member(Cat, [other, agricultural, domestic]),
    s3306_a(E, Y, Cat),
    s3306_b(E, Y, Cat, W).
