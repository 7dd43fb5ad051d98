% Text
% Vesna was born on July 4th, 1950. She has never married, is not blind, and was paid $20000 in 2017.
% By hand: Vesna attained age 65 before the close of 2017: §63(f)(1)(A) entitles her to an
% additional amount, $750 as she is not married (§63(f)(3)); she is not blind, so §63(f)(2)
% gives nothing; her adjusted gross income, $20,000, is below the $250,000 applicable amount
% of §68(b)(1)(C), so neither §68 nor §151(d)(3) applies; no one may deduct an exemption for
% her, so §63(c)(5) does not apply to her.

% Question
% Section 63(f)(2) applies to Vesna for 2017. Contradiction

% Facts
:- [statutes/prolog/init].
birth_(vesna_born).
agent_(vesna_born,vesna).
start_(vesna_born,"1950-07-04").
end_(vesna_born,"1950-07-04").
payment_(vesna_paid).
patient_(vesna_paid,vesna).
start_(vesna_paid,"2017-12-31").
amount_(vesna_paid,20000).

% Test
:- \+ s63_f_2(vesna,2017).
:- halt.
